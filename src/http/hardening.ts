import type { IncomingMessage, ServerOptions } from "node:http";
import proxyAddr from "@fastify/proxy-addr";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.ts";
import { ApiError, invalidArgument } from "../domain/errors.ts";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../domain/json-depth.ts";
import { duplicateMember } from "../domain/json-duplicate-member.ts";
import { inexactNumber } from "../domain/json-inexact-number.ts";
import { quoted } from "../domain/display-text.ts";
import { inferenceEndpoint } from "../gateway/inference-routes.ts";
import { routeConfig } from "./route-config.ts";

/**
 * What keeps hostile or merely slow clients from holding the server: time limits on sending a
 * request, and response headers that keep browsers from framing, sniffing or caching what Hearth
 * shows.
 */

/**
 * The client's address as Fastify reads it for a routed request (HEARTH_TRUST_PROXY), or undefined
 * when no proxy is trusted. Fastify builds the request it hands `frameworkErrors` without its proxy
 * trust: its `ip` is the connection's peer, which behind a proxy would have the refusal audited,
 * and a failed credential counted, as the proxy's.
 */
function trustedClientIp(trustProxy: Config["trustProxy"]): ((req: IncomingMessage) => string) | undefined {
  if (trustProxy === false) return undefined;
  const trust =
    trustProxy === true ? () => true : typeof trustProxy === "number" ? (_addr: string, hop: number) => hop < trustProxy : proxyAddr.compile(trustProxy);
  return (req) => proxyAddr(req, trust);
}

/** Audits a refusal made before any route checked the request and gives the error to answer with (edge-refusals.ts). */
type EdgeRefusal = (request: FastifyRequest, refusal: ApiError) => Promise<ApiError>;

/**
 * URLs the router itself refuses (a path segment over 100 characters, malformed percent-encoding)
 * get Hearth's error shape, not Fastify's, and do not echo the path (it may carry a link token);
 * passed through `onEdgeRefusal` first, to be audited in the caller's account, with the client's
 * address as a route reads it (`clientIp`, see `trustedClientIp`).
 */
function frameworkErrors(onEdgeRefusal: EdgeRefusal, clientIp: ((req: IncomingMessage) => string) | undefined) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    if (clientIp) Object.defineProperty(request, "ip", { value: clientIp(request.raw) });
    const message =
      error.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? "invalid URL: a path segment is longer than 100 characters"
        : error.code === "FST_ERR_BAD_URL"
          ? "invalid URL: the path is not valid percent-encoded UTF-8"
          : "invalid request: it could not be routed";
    // Nothing waits on this handler: an unexpected failure of the audit is logged and answered 500 here.
    void onEdgeRefusal(request, invalidArgument(message))
      .catch((cause: unknown) => {
        request.log.error({ err: cause }, "unhandled error");
        return new ApiError("INTERNAL", "internal error");
      })
      .then((answer) => {
        // Refused before routing, so before the hook that echoes the request id: set it here too.
        void reply.status(answer.httpCode).headers(answer.headers).header("x-request-id", request.id).send(answer.toJSON(request.id));
      });
  };
}

/**
 * Server options. Fastify's defaults wait forever for a request body (`requestTimeout` 0) and
 * check Node's header time-out only every 30 s. Here a client must send its headers within
 * `headersMs` and its whole request within `requestMs`, checked often enough that a limit of a
 * second or two is kept. The URLs the router refuses are audited by `onEdgeRefusal`.
 */
export function serverOptions(
  config: Config,
  onEdgeRefusal: EdgeRefusal,
): {
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
  frameworkErrors: ReturnType<typeof frameworkErrors>;
} {
  const { headersMs, requestMs, keepAliveMs, connectionMs } = config.timeouts;
  return {
    requestTimeout: requestMs,
    keepAliveTimeout: keepAliveMs,
    connectionTimeout: connectionMs,
    http: { headersTimeout: headersMs, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersMs / 4))) },
    frameworkErrors: frameworkErrors(onEdgeRefusal, trustedClientIp(config.trustProxy)),
  };
}

/** True when an object anywhere in a parsed JSON value has an own member named `__proto__`. */
function hasProtoMember(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasProtoMember);
  if (value === null || typeof value !== "object") return false;
  return Object.hasOwn(value, "__proto__") || Object.values(value).some(hasProtoMember);
}

/**
 * The value of a JSON request body (the text, non-empty). Refused, with an error whose message
 * names why: nested deeper than MAX_JSON_DEPTH (checked before parsing, so before any recursive
 * code), not JSON, or holding a member named `__proto__` (in any spelling, e.g. `\u005f_proto__`):
 * copying such a member into another object sets that object's prototype instead, so the copy
 * would read fields the client never sent — refused as Fastify's own parser (secure-json-parse)
 * refuses it.
 * @throws Error with the reason as its message (the caller names the body).
 */
export function parseJsonBody(text: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  const value: unknown = JSON.parse(text);
  // Only a text holding the name, or an escape that could spell it, can have such a member.
  if ((text.includes("__proto__") || text.includes("\\u")) && hasProtoMember(value)) throw new Error('a member named "__proto__" is not accepted');
  return value;
}

/**
 * The refusal of a JSON body that names one member twice in an object (`{"role": "user", "role":
 * "admin"}`), or undefined. `JSON.parse` keeps the last silently while a proxy or a log in front may
 * read the first; a value given in two places is refused everywhere else too (a field under both
 * of its names, a query parameter, a header). Exempt: inference bodies (both mounts), sent upstream
 * serialised again from the parsed value, so the backend reads the value Hearth checked.
 */
export function duplicateMemberRefusal(request: FastifyRequest, text: string): string | undefined {
  if (inferenceEndpoint(request.routeOptions.url ?? "") !== undefined) return undefined;
  const name = duplicateMember(text);
  return name === undefined ? undefined : `the request body gives member ${quoted(name.slice(0, 100))} twice in one object: give it once`;
}

/**
 * The refusal of an inference body holding a number its backend would be sent changed (`inexactNumber`):
 * the gateway serialises the parsed body again, so `"temperature": 1e309` would reach it as `null` (the
 * backend's default) and `"seed": 18446744073709551615` as another seed. Hearth's own bodies need no
 * such check: their numbers are checked against ranges a double holds exactly.
 */
export function inexactNumberRefusal(request: FastifyRequest, text: string): string | undefined {
  if (inferenceEndpoint(request.routeOptions.url ?? "") === undefined) return undefined;
  const literal = inexactNumber(text);
  if (literal === undefined) return undefined;
  const shown = literal.length > 40 ? `${literal.slice(0, 40)}…` : literal;
  return `the request body holds the number ${shown}, which cannot be passed on as sent (JSON numbers are read as doubles): send finite numbers, and integers from -9007199254740991 to 9007199254740991`;
}

/** True when a string (value or key) anywhere in a parsed JSON body holds U+0000. */
function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).some(([k, v]) => k.includes("\u0000") || containsNul(v));
  }
  return false;
}

/** True for a route whose JSON body may hold U+0000 (`RouteSpec.nulInBody`). */
const takesNul = (request: FastifyRequest): boolean => routeConfig(request).nulInBody === true;

/**
 * The codings of a `Content-Encoding` header other than `identity` (RFC 9110 §8.4), e.g. `["gzip"]`.
 * Hearth reads every body as sent, so such a body was taken as if uncompressed: a gzip one refused
 * as "not valid UTF-8: byte 0x8B", and a plain body labelled `br` stored as if the label were not there.
 */
const encodedWith = (header: string | string[] | undefined): string[] =>
  [header ?? []]
    .flat()
    .flatMap((value) => value.split(","))
    .map((coding) => coding.trim())
    .filter((coding) => coding !== "" && coding.toLowerCase() !== "identity");

/**
 * Refuses, at the edge and audited as the other edge refusals are, a request whose content has a
 * coding Hearth does not decode (RFC 9110 §15.5.16 suggests 415; 400 INVALID_ARGUMENT names it,
 * as an unsupported Content-Type is).
 */
export function refuseContentEncoding(app: FastifyInstance, onEdgeRefusal: EdgeRefusal): void {
  app.addHook("onRequest", (request, _reply, done) => {
    const codings = encodedWith(request.headers["content-encoding"]);
    if (codings.length === 0) return done();
    const shown = JSON.stringify(codings.join(", ").slice(0, 100));
    onEdgeRefusal(request, invalidArgument(`unsupported Content-Encoding ${shown}: send the body uncompressed`)).then(done, done);
  });
}

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can), so a NUL reaching the store was a 500 on one
 * dialect and stored on the other. No Hearth value has a use for it: a URL or JSON body carrying
 * one is refused at the edge, on both, whatever its credential, and audited in the caller's
 * account when it has one (`onEdgeRefusal`, edge-refusals.ts). Exempt: inference bodies (both
 * mounts), passed upstream and never stored, and the routes that declare `nulInBody` (a leak
 * report: its credential is checked first, and its text is stored escaped, U+0000 as `\u0000`;
 * refusing it would leave its keys enabled).
 */
export function refuseNul(app: FastifyInstance, onEdgeRefusal: EdgeRefusal): void {
  // Callback hooks: a request without NUL pays no promise.
  app.addHook("onRequest", (request, _reply, done) => {
    if (!/%00/i.test(request.url)) return done();
    onEdgeRefusal(request, invalidArgument("the URL must not contain the NUL character (%00)")).then(done, done);
  });
  app.addHook("preValidation", (request, _reply, done) => {
    const nul = inferenceEndpoint(request.routeOptions.url ?? "") === undefined && !takesNul(request) && containsNul(request.body);
    if (!nul) return done();
    onEdgeRefusal(request, invalidArgument("the request body must not contain the NUL character (\\u0000)")).then(done, done);
  });
}

/**
 * Defaults for every response; a route (or the console) that sets its own value keeps it. API
 * answers and pages may carry secrets (a new key, a session's CSRF token): nothing is cached.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export function securityHeaders(app: FastifyInstance): void {
  app.addHook("onSend", (_request, reply, payload, done) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!reply.hasHeader(name)) void reply.header(name, value);
    }
    done(null, payload);
  });
}
