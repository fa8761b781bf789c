import type { FastifyRequest } from "fastify";
import type { RequestMeta } from "../service/context.ts";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import { credentialOf, type RequestCredential } from "./credential-headers.ts";

/**
 * What the audit log records of the client behind a request: its User-Agent ("" when absent) and
 * address ("" once the client has gone away before anything read it: a closed socket has none, and
 * the entry of its refusal failed to be written).
 */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers["user-agent"];
  return { userAgent: typeof ua === "string" ? ua : "", clientIp: request.ip ?? "", requestId: request.id, authentication: authenticationOf(request) };
}

/**
 * How a request authenticates when not with an API key (whose id the audit entry takes from the
 * principal): `oidc:<issuer>` for a Bearer ID token (its `iss` claim), `session` for a cookie sent
 * without either credential header (`credentialOf`; with one, the cookie is not what authenticates).
 */
function authenticationOf(request: FastifyRequest): string | undefined {
  let credential: RequestCredential | undefined;
  try {
    credential = credentialOf(request.raw);
  } catch {
    // Malformed or conflicting headers: refused by `authenticateRequest`, never by a session.
    return undefined;
  }
  if (credential !== undefined) {
    return credential.header === "x-api-key" || isApiKeyShaped(credential.token) ? undefined : `oidc:${issuerClaim(credential.token)}`;
  }
  return request.headers.cookie ? "session" : undefined;
}

/** The `iss` claim of a JWT, unverified (what the token claims; the sign-in path verifies it), or "". */
function issuerClaim(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { iss?: unknown };
    return typeof claims.iss === "string" ? claims.iss.slice(0, 512) : "";
  } catch {
    return "";
  }
}

/** An id a create names (AIP-122's resource id shape, bounded), or undefined. */
const CREATE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The resource a refused request is audited on when no service named one: its path without the
 * query string and without the API's prefix (`/v1/`, `/inference/v1/`), e.g. `accounts/a/users/u`;
 * for a create that names the new resource's id (AIP-133's `{resource}Id`, e.g. `POST …/users?userId=u`),
 * that resource, as the service would have named it.
 */
export function auditedResource(request: FastifyRequest): string {
  const path = request.url.split("?")[0]!.replace(/^\/(v1|inference\/v1)\//, "");
  if (request.method !== "POST") return path;
  const collection = /\/([a-z][A-Za-z]*)s$/.exec(path)?.[1];
  const id = collection && (request.query as Record<string, unknown> | undefined)?.[`${collection}Id`];
  return typeof id === "string" && CREATE_ID.test(id) ? `${path}/${id}` : path;
}
