import type { FastifyRequest } from "fastify";
import { ApiError, invalidArgument, unauthenticated } from "../domain/errors.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Principal } from "../domain/principal.ts";
import type { Deps } from "../service/context.ts";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import { authenticateOidcToken } from "../service/oidc-token.ts";
import { withPresetActions } from "../service/permission-presets.ts";
import { failedAuthentication } from "./auth-failures.ts";
import { requestMeta } from "./request-meta.ts";
import { sessionPrincipal } from "./session-auth.ts";

// RFC 6750 b64token; the scheme name is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The credential of a request: undefined when there is none, 400 when the header is malformed. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === "") return undefined;
  const match = BEARER.exec(header);
  if (!match) throw invalidArgument("malformed Authorization header: expected 'Bearer <API key>'");
  return match[1];
}

/**
 * Who is calling: a Bearer API key; a Bearer OIDC ID token of a human (anything that is not shaped
 * like a Hearth key, e.g. a JWT); or, without a Bearer header, a browser session cookie.
 */
async function principalOf(deps: Deps, request: FastifyRequest, accountId: string | undefined): Promise<Principal> {
  const token = bearerToken(request);
  if (token !== undefined) {
    if (isApiKeyShaped(token)) return authenticateApiKey(deps, token, requestMeta(request));
    return authenticateOidcToken(deps, token, accountId, requestMeta(request));
  }
  const session = await sessionPrincipal(deps, request, requestMeta(request));
  if (session) return session.principal;
  throw unauthenticated("missing credentials: send 'Authorization: Bearer <API key>'");
}

/**
 * Authenticates a request (the router then checks that the account in its path is the
 * principal's own, auditing another account's 404 in the caller's account). The credential is checked first: a good one is served whatever its address did before. A refused
 * attempt on an existing account is audited there (in aggregate past the first few); repeated
 * failures from one address are slowed, then answered 429 (see failedAuthentication).
 */
export async function authenticateRequest(deps: Deps, request: FastifyRequest, operationId: string): Promise<Principal> {
  const accountId = (request.params as { accountId?: string } | undefined)?.accountId;
  let principal: Principal;
  try {
    // A custom role's preset actions (an API key's principal already carries them, from its cache).
    principal = await withPresetActions(deps.store.db, await principalOf(deps, request, accountId));
  } catch (error) {
    if (error instanceof ApiError) throw await failedAuthentication(deps, request, { operationId, accountId }, error);
    throw error;
  }
  return principal;
}
