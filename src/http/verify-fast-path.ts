/**
 * @module `GET /verifyApiKey` without the framework, for the success that a gateway's
 * `auth_request` / `ext_authz` check asks about on every proxied request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Principal } from "../domain/principal.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Deps } from "../service/context.ts";
import { keyedRequest } from "./fast-path-request.ts";
import { SECURITY_HEADERS } from "./hardening.ts";
import { countFastPathAnswer } from "./metrics.ts";

/** The answer's body, the same fields the framework route writes (`VerifyApiKeyResponse`). */
export function verifiedKeyOf(p: Principal) {
  return { accountId: p.accountId, userId: p.userId, email: p.email, role: p.role, serviceAccount: p.serviceAccount, keyId: p.apiKeyId };
}

// What a header value may not hold as it is (RFC 9110 §5.5 field-vchar is visible ASCII; Node refuses
// anything beyond Latin-1), and `%`, so that decoding is unambiguous.
const NOT_HEADER_SAFE = /[^\x21-\x24\x26-\x7e]/gu;

/**
 * `text` as a header value: every character outside visible ASCII, and `%`, percent-encoded as
 * UTF-8 (RFC 3986 §2.1); percent-decoding gives `text` back. An ASCII email without `%` is
 * unchanged; an internationalised one (`иван@пример.рф`, RFC 6532) is encoded.
 */
const headerSafe = (text: string): string => text.replace(NOT_HEADER_SAFE, (c) => encodeURIComponent(c));

/**
 * The headers naming the principal, which nginx `auth_request` and Envoy `ext_authz` pass on;
 * `x-hearth-principal` is the email percent-encoded where a header value needs it (`headerSafe`).
 */
export function principalHeaders(p: Principal): Record<string, string> {
  return {
    "x-fireworks-account-id": p.accountId,
    "x-hearth-user-id": p.userId,
    "x-hearth-principal": headerSafe(p.email),
    "x-hearth-role": p.role,
    "x-hearth-api-key-id": p.apiKeyId,
    "cache-control": "no-store",
  };
}

/**
 * A principal's answer: its JSON body and its headers but the request id, as a flat
 * `[name, value, …]` list for `writeHead`. Made for each request: kept per cached principal it
 * cost about 0.5 KB for each of the key cache's (by default 100,000) principals, for no saving
 * the benchmark could tell apart from its noise (bench/RESULTS.md, item 6).
 */
function answerOf(p: Principal): { body: string; headers: string[] } {
  const body = JSON.stringify(verifiedKeyOf(p));
  const headers = {
    ...SECURITY_HEADERS,
    ...principalHeaders(p),
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
  };
  return { body, headers: Object.entries(headers).flat() };
}

/**
 * Answers a `GET /verifyApiKey` carrying a valid, unrestricted API key straight from the key cache:
 * the same status, headers (principal, request id, security headers) and JSON body as the route in
 * src/http/routes/service.ts, without Fastify's routing, hooks and serialisation. Returns false
 * (leaving the request untouched) when it is anything else; a key that is refused, unknown to the
 * cache's process, restricted, or a request whose log level wants a line for it is handed to
 * `fallback` (the framework), which authenticates it again and refuses, audits and throttles as
 * every route does. Counted and timed in the request metrics (`countFastPathAnswer`).
 */
export function answerVerifyFast(
  deps: Deps,
  req: IncomingMessage,
  res: ServerResponse,
  fallback: (req: IncomingMessage, res: ServerResponse) => void,
): boolean {
  if (req.method !== "GET" || req.url !== "/verifyApiKey") return false;
  const keyed = keyedRequest(req, deps);
  if (keyed === undefined) return false;
  const started = performance.now();
  authenticateApiKey(deps, keyed.token, keyed.meta)
    .then(
      (principal) => {
        if (principal.restrictions !== undefined) return fallback(req, res);
        const answer = answerOf(principal);
        req.resume();
        res.writeHead(200, answer.headers.concat("x-request-id", keyed.meta.requestId));
        res.end(answer.body);
        countFastPathAnswer(deps, "GET", "/verifyApiKey", 200, performance.now() - started);
      },
      () => fallback(req, res),
    )
    // Nothing above is expected to throw; if it does, the connection ends rather than the process.
    .catch(() => res.destroy());
  return true;
}
