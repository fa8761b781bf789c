import type { IncomingHttpHeaders } from "node:http";
import { invalidArgument } from "../domain/errors.ts";

// RFC 6750 b64token; the scheme name is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// The same token syntax, alone (an `x-api-key` value), spaces around it allowed.
const BARE_TOKEN = /^ *([A-Za-z0-9\-._~+/]+=*) *$/;

/** How many Authorization headers `rawHeaders` (name, value, name, value, …) holds. */
function authorizationCount(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === "authorization") count++;
  return count;
}

/** The credential a request sends, and in which header. */
export interface RequestCredential {
  token: string;
  /** `authorization`: `Bearer <API key or OIDC ID token>`; `x-api-key`: an API key alone. */
  header: "authorization" | "x-api-key";
}

/**
 * The credential of a request's headers, the one reading of them for every route and fast path:
 * `Authorization: Bearer <token>` (RFC 6750), or `x-api-key: <API key>`, as Fireworks' "Fine-tuning
 * via REST API" guide sends it. Undefined when neither header is given (or both are empty). Both
 * with the same token are that token; with different ones the request is refused, never resolved
 * by picking one (a proxy or client that adds its own would otherwise decide who the caller is).
 * @throws INVALID_ARGUMENT naming the header that is malformed or repeated, or both when they differ.
 */
export function credentialOf({ headers, rawHeaders }: { headers: IncomingHttpHeaders; rawHeaders: string[] }): RequestCredential | undefined {
  const authorization = headers.authorization;
  // Node keeps the first of repeated Authorization headers and drops the rest: read them all, so
  // that a second one (a proxy's, a client's) is refused rather than silently outranked.
  if (authorizationCount(rawHeaders) > 1) throw invalidArgument("repeated Authorization header: send one credential");
  let bearer: string | undefined;
  if (authorization !== undefined && authorization !== "") {
    bearer = BEARER.exec(authorization)?.[1];
    if (bearer === undefined) throw invalidArgument("malformed Authorization header: expected 'Bearer <API key>'");
  }
  const apiKeyHeader = headers["x-api-key"];
  let apiKey: string | undefined;
  if (apiKeyHeader !== undefined && apiKeyHeader !== "") {
    // A repeated header arrives joined with ", " (or as a list): not one token, so malformed.
    apiKey = typeof apiKeyHeader === "string" ? BARE_TOKEN.exec(apiKeyHeader)?.[1] : undefined;
    if (apiKey === undefined) throw invalidArgument("malformed x-api-key header: expected the API key alone, once");
  }
  if (bearer !== undefined && apiKey !== undefined && bearer !== apiKey) {
    throw invalidArgument("conflicting credentials: the Authorization and x-api-key headers hold different keys; send one of them");
  }
  if (bearer !== undefined) return { token: bearer, header: "authorization" };
  if (apiKey !== undefined) return { token: apiKey, header: "x-api-key" };
  return undefined;
}
