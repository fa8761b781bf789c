import type { FastifyRequest } from "fastify";
import { ApiError, unauthenticated } from "../domain/errors.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Principal } from "../domain/principal.ts";
import type { Deps } from "../service/context.ts";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import { authenticateOidcToken } from "../service/oidc-token.ts";
import { withPresetActions } from "../service/permission-presets.ts";
import { failedAuthentication, type FailedAttempt } from "./auth-failures.ts";
import { readCookie, sessionCookieName } from "./cookies.ts";
import { credentialOf } from "./credential-headers.ts";
import { requestMeta } from "./request-meta.ts";
import { sessionPrincipal } from "./session-auth.ts";

/**
 * Who is calling: an API key, as `Authorization: Bearer` or `x-api-key` (`credentialOf`); a Bearer
 * OIDC ID token of a human (anything in `Authorization` that is not shaped like a Hearth key, e.g. a
 * JWT; `x-api-key` takes API keys only); or, without either header, a browser session cookie.
 */
async function principalOf(deps: Deps, request: FastifyRequest, accountId: string | undefined): Promise<Principal> {
  const credential = credentialOf(request.raw);
  if (credential !== undefined) {
    if (credential.header === "x-api-key" || isApiKeyShaped(credential.token)) return authenticateApiKey(deps, credential.token, requestMeta(request));
    return authenticateOidcToken(deps, credential.token, accountId, requestMeta(request));
  }
  const session = await sessionPrincipal(deps, request, requestMeta(request));
  if (session) return session.principal;
  throw unauthenticated("missing credentials: send 'Authorization: Bearer <API key>' or 'x-api-key: <API key>'");
}

/**
 * Authenticates a request (the router then checks that the account in its path is the
 * principal's own, auditing another account's 404 in the caller's account). The credential is checked first: a good one is served whatever its address did before. A refused
 * attempt on an existing account is audited there (in aggregate past the first few); repeated
 * failures from one address are slowed, then answered 429 (see failedAuthentication).
 */
export function authenticateRequest(deps: Deps, request: FastifyRequest, operationId: string): Promise<Principal> {
  const accountId = (request.params as { accountId?: string } | undefined)?.accountId;
  return authenticate(deps, request, { operationId, accountId });
}

/**
 * The principal of a request refused before any route checked it (no route, a method its path
 * does not take, a URL or body refused at the edge: edge-refusals.ts), so that the refusal is
 * audited in the caller's own account; undefined when the request carries no credential (nothing
 * is checked or counted) or one that does not authenticate. Such a credential is a failed
 * authentication like any other (counted and slowed per address: see failedAuthentication),
 * audited in no account the path names (a refused real key in its own, as on every path); the
 * caller answers its refusal whatever the credential.
 */
export async function authenticateIfCredentialed(deps: Deps, request: FastifyRequest, operationId: string): Promise<Principal | undefined> {
  const given = (value: string | string[] | undefined) => value !== undefined && value !== "";
  if (
    !given(request.headers.authorization) &&
    !given(request.headers["x-api-key"]) &&
    !given(readCookie(request, sessionCookieName(request, deps.config.publicUrl)))
  )
    return undefined;
  try {
    return await authenticate(deps, request, { operationId });
  } catch (error) {
    if (error instanceof ApiError) return undefined;
    throw error;
  }
}

/**
 * The request's principal, with a custom role's preset actions (an API key's principal already
 * carries them, from its cache). A credential's refusal is recorded as `attempt` (failedAuthentication).
 * @throws UNAUTHENTICATED (401), INVALID_ARGUMENT (400, a malformed Authorization header), or
 * RESOURCE_EXHAUSTED (429) once the address is past the block threshold.
 */
async function authenticate(deps: Deps, request: FastifyRequest, attempt: FailedAttempt): Promise<Principal> {
  try {
    return await withPresetActions(deps.store.db, await principalOf(deps, request, attempt.accountId));
  } catch (error) {
    if (error instanceof ApiError) throw await failedAuthentication(deps, request, attempt, error);
    throw error;
  }
}
