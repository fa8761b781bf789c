/**
 * @module The web console (docs/console.md): the single-page app that `vite build` writes to web/dist, served on
 * the API's own origin so it can use the session cookie. Console paths (`/`, `/signin`,
 * `/account/...`) all answer index.html and the app routes in the browser; nothing here is under
 * `/v1`, `/auth`, `/inference`, `/verifyApiKey`, `/healthz` or `/openapi.json`, which stay the API's.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where `vite build` writes the console: web/dist. */
export const CONSOLE_DIST = fileURLToPath(new URL("../../web/dist/", import.meta.url));

/** Paths the app routes itself; anything else that no route claims stays the API's JSON 404. */
const CONSOLE_PATHS = ["/", "/signin", "/account", "/account/*"];

/** Hashed bundle names only: no directories, no dot files. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** Files Vite copies from web/public to the root of the build. */
const ROOT_FILES = ["/favicon.svg"];

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
};

/**
 * No inline script or style element is allowed: the bundle is a same-origin file. React sets
 * `style` through the CSSOM, which a policy does not restrict, so `style-src 'self'` suffices.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

let stylesheet: string | undefined;

/**
 * The path of the console's built stylesheet (`/assets/index-<hash>.css`, named in web/dist/index.html),
 * for the few pages the server writes itself (a refused sign-in) to look like the console; undefined
 * while the console is not built. Read once, then remembered.
 */
export function consoleStylesheet(): string | undefined {
  if (stylesheet) return stylesheet;
  try {
    const html = readFileSync(join(CONSOLE_DIST, "index.html"), "utf8");
    stylesheet = /<link rel="stylesheet"[^>]*href="(\/assets\/[A-Za-z0-9._-]+\.css)"/.exec(html)?.[1];
  } catch {
    stylesheet = undefined;
  }
  return stylesheet;
}

/** The security headers of a console page (its CSP allows only same-origin scripts and styles). */
export function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "content-security-policy": CONSOLE_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
  });
}

async function readDist(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(CONSOLE_DIST, path));
  } catch {
    return undefined;
  }
}

function missing(reply: FastifyReply, what: string): FastifyReply {
  return pageHeaders(reply)
    .status(404)
    .header("cache-control", "no-store")
    .send({ error: { code: 404, status: "NOT_FOUND", message: `no console file ${what}` } });
}

/** Registers the console's pages and its static files on the app. */
export function consoleRoutes(app: FastifyInstance): void {
  const page = async (_request: unknown, reply: FastifyReply) => {
    const html = await readDist("index.html");
    pageHeaders(reply).header("cache-control", "no-store");
    if (!html) {
      return reply.status(503).type("text/plain; charset=utf-8").send("The web console is not built: run `npm run build:web` (npm install runs it).\n");
    }
    return reply.type("text/html; charset=utf-8").send(html);
  };
  for (const url of CONSOLE_PATHS) app.get(url, page);

  app.get<{ Params: { file: string } }>("/assets/:file", async (request, reply) => {
    const { file } = request.params;
    if (!ASSET_NAME.test(file)) return missing(reply, file);
    const body = await readDist(join("assets", file));
    if (!body) return missing(reply, file);
    // Bundle names carry a content hash: a new build is a new name.
    return pageHeaders(reply)
      .header("cache-control", "public, max-age=31536000, immutable")
      .type(TYPES[extname(file)] ?? "application/octet-stream")
      .send(body);
  });

  for (const url of ROOT_FILES) {
    app.get(url, async (_request, reply) => {
      const body = await readDist(url.slice(1));
      if (!body) return missing(reply, url);
      return pageHeaders(reply)
        .header("cache-control", "public, max-age=3600")
        .type(TYPES[extname(url)] ?? "application/octet-stream")
        .send(body);
    });
  }
}
