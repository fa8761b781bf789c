import type { FastifyRequest } from "fastify";
import { ApiError, invalidArgument, unauthenticated } from "../domain/errors.ts";
import { getAccount } from "../store/accounts.ts";
import { auditUnauthenticated } from "../service/audit.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Deps, Principal, RequestMeta } from "../service/context.ts";
import { requireSameAccount } from "../service/permissions.ts";
import { isApiKeyShaped } from "../domain/sign-in.ts";
import { authenticateOidcToken } from "../service/oidc-token.ts";
import { alreadyAudited } from "../service/sign-in.ts";
import { sessionPrincipal } from "./session-auth.ts";

// RFC 6750 b64token; the scheme name is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers["user-agent"];
  return { userAgent: typeof ua === "string" ? ua : "", clientIp: request.ip };
}

/** The credential of a request: undefined when there is none, 400 when the header is malformed. */
export function bearerToken(request: FastifyRequest): string | undefined {
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
async function principalOf(deps: Deps, request: FastifyRequest, accountId: string | undefined, operationId: string): Promise<Principal> {
  const token = bearerToken(request);
  if (token !== undefined) {
    if (isApiKeyShaped(token, deps.config.keyPrefix)) return authenticateApiKey(deps, token);
    return authenticateOidcToken(deps, token, accountId, requestMeta(request));
  }
  const session = await sessionPrincipal(deps, request, requestMeta(request), operationId);
  if (session) return session.principal;
  throw unauthenticated("missing credentials: send 'Authorization: Bearer <API key>'");
}

/**
 * Authenticates a request and checks that the account in its path is the principal's own. A
 * refused attempt on an existing account is audited there (in aggregate past the first few);
 * repeated failures from one address are slowed, then refused; another account's path is NOT_FOUND.
 */
export async function authenticateRequest(deps: Deps, request: FastifyRequest, operationId: string): Promise<Principal> {
  const accountId = (request.params as { accountId?: string } | undefined)?.accountId;
  const retryAfter = deps.authThrottle.blockedFor(request.ip);
  if (retryAfter > 0) {
    throw new ApiError("RESOURCE_EXHAUSTED", `too many failed authentication attempts from this address; retry in ${retryAfter} seconds`, {
      "retry-after": String(retryAfter),
    });
  }
  let principal: Principal;
  try {
    principal = await principalOf(deps, request, accountId, operationId);
  } catch (error) {
    if (error instanceof ApiError && !alreadyAudited(error)) await refused(deps, request, accountId, operationId, error);
    throw error;
  }
  if (accountId !== undefined) requireSameAccount(principal, accountId);
  return principal;
}

async function refused(deps: Deps, request: FastifyRequest, accountId: string | undefined, operationId: string, error: ApiError): Promise<void> {
  const onAccount = accountId !== undefined && (await getAccount(deps.store.db, accountId)) ? accountId : undefined;
  const { audit, delayMs } = deps.authThrottle.fail(request.ip, onAccount);
  if (audit && onAccount) {
    const resource = request.url.split("?")[0]!.replace(/^\/v1\//, "");
    await auditUnauthenticated(deps, onAccount, requestMeta(request), { method: operationId, resource, isAdminAction: false }, error);
  }
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
}
