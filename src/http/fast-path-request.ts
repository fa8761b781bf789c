/**
 * @module What the fast paths in front of the framework (src/http/fast-path-server.ts) read of a
 * request, exactly as the framework route would read it; anything they cannot read the same way
 * is left to the framework.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import { withoutKeys } from "../domain/key-shapes.ts";
import type { Deps, RequestMeta } from "../service/context.ts";
import { credentialOf, type RequestCredential } from "./credential-headers.ts";

/** A client's `x-request-id` that is echoed (and logged, audited) as the request's id; any other is replaced by a UUID. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request's id: the client's `x-request-id` when it is 1–64 of `[A-Za-z0-9._-]` and not
 * key-shaped (a key pasted there would be logged with every line of the request, `withoutKeys`),
 * else a new UUID.
 */
export function requestIdOf(given: unknown): string {
  return typeof given === "string" && REQUEST_ID.test(given) && withoutKeys(given) === given ? given : randomUUID();
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
  // Trimmed of spaces and tabs only (RFC 9110 OWS), as the framework's proxy-addr reads the list.
  return forwarded.split(",")[0]!.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** A request a fast path can authenticate: its API key (`Authorization: Bearer` or `x-api-key`) and its audit metadata. */
export interface KeyedRequest {
  token: string;
  meta: RequestMeta & { requestId: string };
}

/**
 * The request's API key and metadata (user agent, client address, request id: the client's
 * `x-request-id` when well-formed, else a new UUID), or undefined when the request has no API key
 * (read by `credentialOf`, as the framework route reads it: malformed or conflicting credential
 * headers are the framework's to refuse) or its client address needs the framework's proxy-trust rules.
 */
export function keyedRequest(req: IncomingMessage, deps: Deps): KeyedRequest | undefined {
  let credential: RequestCredential | undefined;
  try {
    credential = credentialOf(req);
  } catch {
    return undefined;
  }
  const token = credential?.token;
  if (token === undefined || !isApiKeyShaped(token)) return undefined;
  const ip = clientIp(req, deps.config.trustProxy);
  if (ip === undefined) return undefined;
  const given = req.headers["x-request-id"];
  const requestId = requestIdOf(given);
  const ua = req.headers["user-agent"];
  return { token, meta: { userAgent: typeof ua === "string" ? ua : "", clientIp: ip, requestId } };
}
