/**
 * @module Which HTTP methods the routes declared at a path answer, so that a path Hearth serves,
 * asked with another method, is refused 405 with an `Allow` header (RFC 9110 §15.5.6) instead of
 * 404, or instead of reaching a route that reads the custom method's name as a resource id
 * (`GET …/webhooks/w1:rotateSecret` is not GetWebhook of `w1:rotateSecret`).
 */
import type { FastifyInstance } from "fastify";

/** Fastify's route syntax → a regular expression matching the paths it takes (see `compile`). */
const TOKEN = /::|:\w+\(([^)]*)\)|:\w+|\*|[^:*]+/g;

/**
 * A route URL in Fastify's syntax as an anchored expression: `::` a literal colon, `:id(re)` the
 * parameter's own pattern, `:id` one segment without a colon (an AIP-136 custom method's `:verb`
 * is not part of the id before it), `*` the rest of the path.
 */
function compile(url: string): RegExp {
  let source = "";
  for (const [token, pattern] of url.matchAll(TOKEN)) {
    if (token === "::") source += ":";
    else if (pattern !== undefined) source += `(?:${pattern.replace(/^\^|\$$/g, "")})`;
    else if (token.startsWith(":")) source += "[^/:]+";
    else if (token === "*") source += ".*";
    else source += token.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Every route of an app, by path pattern, with the methods declared there. */
export class AllowedMethods {
  private readonly routes: Array<{ pattern: RegExp; method: string }> = [];

  /** Records every route `app` declares from now on (Fastify's `onRoute` hook: call before the routes are added). */
  constructor(app: FastifyInstance) {
    app.addHook("onRoute", (route) => {
      const pattern = compile(route.url ?? "");
      for (const method of [route.method].flat()) this.routes.push({ pattern, method });
    });
  }

  /**
   * The methods routes answer at `path` (no query string; a trailing slash ignored, as the router
   * does), sorted, with HEAD wherever GET is; empty when no route declares the path.
   */
  at(path: string): string[] {
    const bare = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(bare)) methods.add(route.method);
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  }

  /**
   * Whether `path`'s last segment names a custom method (`…/{id}:verb`, AIP-136) some route
   * declares, with other methods than `method`: the methods it allows, else undefined. A cheap test
   * first, so paths without a colon in their last segment cost one string search.
   */
  customMethodAsked(method: string, path: string): string[] | undefined {
    // The router decodes `%3A` in a parameter and ignores a trailing slash: so does this check.
    const bare = (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path).replace(/%3a/gi, ":");
    if (bare.lastIndexOf(":") < bare.lastIndexOf("/")) return undefined;
    const allowed = this.at(bare);
    return allowed.length > 0 && !allowed.includes(method) ? allowed : undefined;
  }
}
