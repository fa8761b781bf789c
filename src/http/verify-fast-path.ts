/**
 * @module `GET /verifyApiKey` without the framework, for the success that a gateway's
 * `auth_request` / `ext_authz` check asks about on every proxied request.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from "node:http";
import type { FastifyServerFactory } from "fastify";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import type { Principal } from "../domain/principal.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Deps, RequestMeta } from "../service/context.ts";
import { SECURITY_HEADERS } from "./hardening.ts";

/** A client's `x-request-id` that is echoed (and logged, audited) as the request's id; any other is replaced by a UUID. */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

// RFC 6750 b64token, as src/http/auth.ts reads it; anything else goes the framework's way.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Successful answers of the fast path per app's deps, for `hearth_http_requests_total` (src/http/metrics.ts). */
const served = new WeakMap<Deps, { count: number }>();

/** Fast-path successes since the last call (and resets the count): the metrics collector adds them to the GET /verifyApiKey 200 count. */
export function takeFastVerifications(deps: Deps): number {
  const c = served.get(deps);
  if (!c) return 0;
  const n = c.count;
  c.count = 0;
  return n;
}

/** The answer's body, the same fields the framework route writes (`VerifyApiKeyResponse`). */
export function verifiedKeyOf(p: Principal) {
  return { accountId: p.accountId, userId: p.userId, email: p.email, role: p.role, serviceAccount: p.serviceAccount, keyId: p.apiKeyId };
}

/** The headers naming the principal, which nginx `auth_request` and Envoy `ext_authz` pass on. */
export function principalHeaders(p: Principal): Record<string, string> {
  return {
    "x-fireworks-account-id": p.accountId,
    "x-hearth-user-id": p.userId,
    "x-hearth-principal": p.email,
    "x-hearth-role": p.role,
    "x-hearth-api-key-id": p.apiKeyId,
    "cache-control": "no-store",
  };
}

/**
 * A cached principal's answer, made once per principal object (the key cache hands out the same
 * frozen principal until the key changes): its JSON body and its headers but the request id, as a
 * flat `[name, value, …]` list for `writeHead`.
 */
const answers = new WeakMap<Principal, { body: string; headers: string[] }>();

function answerOf(p: Principal): { body: string; headers: string[] } {
  let answer = answers.get(p);
  if (!answer) {
    const body = JSON.stringify(verifiedKeyOf(p));
    const headers = {
      ...SECURITY_HEADERS,
      ...principalHeaders(p),
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
    };
    answers.set(p, (answer = { body, headers: Object.entries(headers).flat() }));
  }
  return answer;
}

/**
 * The client's address as the framework would give it: the socket's peer, or with
 * `HEARTH_TRUST_PROXY=true` the left-most `X-Forwarded-For` entry. Undefined for the other trust
 * settings (hop counts, address lists), which the framework's own resolution handles.
 */
function clientIp(req: IncomingMessage, trustProxy: Deps["config"]["trustProxy"]): string | undefined {
  const peer = req.socket.remoteAddress ?? "";
  if (trustProxy === false) return peer;
  if (trustProxy !== true) return undefined;
  const forwarded = req.headers["x-forwarded-for"];
  if (typeof forwarded !== "string" || forwarded === "") return peer;
  return forwarded.split(",")[0]!.trim();
}

/**
 * Answers a `GET /verifyApiKey` carrying a valid, unrestricted API key straight from the key cache:
 * the same status, headers (principal, request id, security headers) and JSON body as the route in
 * src/http/routes/service.ts, without Fastify's routing, hooks and serialisation. Returns false
 * (leaving the request untouched) when it is anything else; a key that is refused, unknown to the
 * cache's process, restricted, or a request whose log level wants a line for it is handed to
 * `fallback` (the framework), which authenticates it again and refuses, audits and throttles as
 * every route does. Not timed in `hearth_http_request_duration_seconds`; counted in
 * `hearth_http_requests_total`.
 */
function answerFast(deps: Deps, req: IncomingMessage, res: ServerResponse, fallback: (req: IncomingMessage, res: ServerResponse) => void): boolean {
  if (req.method !== "GET" || req.url !== "/verifyApiKey") return false;
  const token = BEARER.exec(req.headers.authorization ?? "")?.[1];
  if (token === undefined || !isApiKeyShaped(token)) return false;
  const ip = clientIp(req, deps.config.trustProxy);
  if (ip === undefined) return false;
  const given = req.headers["x-request-id"];
  const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
  const ua = req.headers["user-agent"];
  const meta: RequestMeta = { userAgent: typeof ua === "string" ? ua : "", clientIp: ip, requestId };
  authenticateApiKey(deps, token, meta).then(
    (principal) => {
      if (principal.restrictions !== undefined) return fallback(req, res);
      const answer = answerOf(principal);
      req.resume();
      res.writeHead(200, answer.headers.concat("x-request-id", requestId));
      res.end(answer.body);
      let c = served.get(deps);
      if (!c) served.set(deps, (c = { count: 0 }));
      c.count++;
    },
    () => fallback(req, res),
  );
  return true;
}

/**
 * The HTTP server Fastify runs on (its `serverFactory`), with the `/verifyApiKey` fast path in
 * front of Fastify's handler. It applies the same server options Fastify applies to a server it
 * makes itself (header and request time-outs, keep-alive, socket time-out). The log level `debug`
 * turns the fast path off, so that every verification gets its log line.
 */
export function verifyFastPathServer(deps: Deps): FastifyServerFactory {
  const enabled = deps.config.logLevel !== "debug";
  return (handler, opts) => {
    const o = opts as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number };
    const server: Server = createServer(o.http ?? {}, (req, res) => {
      if (!enabled || !answerFast(deps, req, res, handler)) handler(req, res);
    });
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket !== undefined && o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };
}
