import { decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { ApiError, unauthenticated } from "../domain/errors.ts";
import { identityProvidersByIssuer } from "../store/identity-providers.ts";
import type { IdentityProviderRow, UserRow } from "../store/schema.ts";
import { getUserByEmail } from "../store/users.ts";
import type { Principal, RequestMeta } from "./context.ts";
import { issuerKeys } from "./oidc-discovery.ts";
import { provisionUser } from "./oidc-login.ts";
import { humanPrincipal, refuseServiceAccount, type SignInDeps } from "./sign-in.ts";

/**
 * A human calling the API with an ID token from one of the account's identity providers instead of
 * an API key. The token must be signed with a key from the issuer's JWKS (found by discovery), its
 * `iss` must be the provider's issuer URL and its `aud` the provider's client id, it must be within
 * `nbf`..`exp`, and its `email` (not marked unverified) must name a human user of the account.
 */
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
const CLOCK_TOLERANCE_S = 30;

const notOidc = () => unauthenticated("the bearer token is neither a Hearth API key nor an OIDC ID token");

function verificationError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof errors.JWTExpired) return unauthenticated("the OIDC token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) return unauthenticated(`the OIDC token's "${error.claim}" claim is not valid (${error.reason})`);
  if (error instanceof errors.JWKSTimeout) return new ApiError("UNAVAILABLE", "the identity provider's signing keys could not be fetched; try again later");
  if (error instanceof errors.JOSEError) return unauthenticated("the OIDC token's signature does not verify");
  return new ApiError("UNAVAILABLE", "the identity provider's signing keys could not be fetched; try again later");
}

function audiences(claims: JWTPayload): string[] {
  if (typeof claims.aud === "string") return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === "string") : [];
}

/** Resolves a bearer OIDC token to a human principal. `accountId` is the path's account, if the route has one. */
export async function authenticateOidcToken(deps: SignInDeps, token: string, accountId: string | undefined, meta: RequestMeta): Promise<Principal> {
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(token);
  } catch {
    throw notOidc();
  }
  // The unverified `iss` only picks which providers' keys to try; nothing is trusted before jwtVerify.
  if (typeof unverified.iss !== "string") throw notOidc();
  const sameIssuer = await identityProvidersByIssuer(deps.store.db, unverified.iss, accountId);
  if (sameIssuer.length === 0) {
    throw unauthenticated(
      accountId === undefined
        ? "the OIDC token's issuer is not an identity provider of any account"
        : `the OIDC token's issuer is not an identity provider of account "${accountId}"`,
    );
  }
  // Only the providers the token claims to be for are candidates (one issuer may serve many accounts).
  const claimed = audiences(unverified);
  const providers = sameIssuer.filter((p) => claimed.includes(p.client_id));
  if (providers.length === 0) throw unauthenticated(`the OIDC token's "aud" claim is not valid (check_failed)`);
  let claims: JWTPayload;
  try {
    const keys = await issuerKeys(deps, providers[0]!);
    ({ payload: claims } = await jwtVerify(token, keys, {
      issuer: providers[0]!.issuer_url,
      audience: providers.map((p) => p.client_id),
      algorithms: ASYMMETRIC,
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_TOLERANCE_S,
    }));
  } catch (error) {
    throw verificationError(error);
  }
  const aud = audiences(claims);
  const matching = providers.filter((p) => aud.includes(p.client_id) && (claims.azp === undefined || claims.azp === p.client_id));
  if (matching.length === 0) throw unauthenticated(`the OIDC token's "azp" claim is not valid (check_failed)`);
  if (typeof claims.email !== "string") throw unauthenticated("the OIDC token carries no email claim");
  if (claims.email_verified === false) throw unauthenticated("the OIDC token's email is not verified by the identity provider");
  const user = await userFor(deps, matching, claims.email.toLowerCase(), accountId, meta);
  if (user.service_account === 1) throw await refuseServiceAccount(deps, user, "oidc-token", meta);
  return humanPrincipal(user);
}

/**
 * The human the token's email names among the providers' accounts. An email no account knows is
 * provisioned as at web sign-in, when exactly one of those accounts' providers has JIT provisioning on.
 */
async function userFor(deps: SignInDeps, providers: IdentityProviderRow[], email: string, accountId: string | undefined, meta: RequestMeta): Promise<UserRow> {
  const accounts = [...new Set(providers.map((p) => p.account_id))];
  const found = (await Promise.all(accounts.map((a) => getUserByEmail(deps.store.db, a, email)))).filter((u): u is UserRow => u !== undefined);
  if (found.length === 0) {
    const jit = providers.filter((p) => p.enable_jit === 1);
    if (new Set(jit.map((p) => p.account_id)).size === 1) return provisionUser(deps, jit[0]!, email, meta);
    throw unauthenticated(accountId === undefined ? `no account has a user with the email "${email}"` : `account "${accountId}" has no user with the email "${email}"`);
  }
  if (found.length > 1) {
    throw unauthenticated(`"${email}" is a user of several accounts with this identity provider; call a route under /v1/accounts/{accountId}`);
  }
  return found[0]!;
}
