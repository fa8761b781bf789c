import { decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { ApiError, unauthenticated } from "../domain/errors.ts";
import { identityProvidersByIssuer } from "../store/identity-providers.ts";
import type { Principal } from "../domain/principal.ts";
import type { RequestMeta } from "./context.ts";
import { issuerKeys } from "./oidc-discovery.ts";
import { userForClaims } from "./oidc-principal.ts";
import { humanPrincipal, type SignInDeps } from "./sign-in.ts";

/**
 * A human calling the API with an ID token from one of the account's identity providers instead of
 * an API key. The token must be signed with a key from the issuer's JWKS (found by discovery), its
 * `iss` must be the provider's issuer URL and its `aud` the provider's client id, it must be within
 * `nbf`..`exp`; then the claims go through the one rule set of oidc-principal.ts (verified email,
 * tenant domain or binding, subject binding, lifetime, `azp`).
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

/**
 * Resolves a bearer OIDC token to a human principal. `accountId` is the path's account, if the route
 * has one. The token's `(iss, aud)` (with several audiences, `(iss, azp)`) names exactly one
 * provider: a pair is registered to one account only (issue 13).
 */
export async function authenticateOidcToken(deps: SignInDeps, token: string, accountId: string | undefined, meta: RequestMeta): Promise<Principal> {
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(token);
  } catch {
    throw notOidc();
  }
  // The unverified `iss`/`aud` only pick which provider's keys to try; nothing is trusted before jwtVerify.
  if (typeof unverified.iss !== "string") throw notOidc();
  const sameIssuer = await identityProvidersByIssuer(deps.store.db, unverified.iss, accountId);
  if (sameIssuer.length === 0) {
    throw unauthenticated(
      accountId === undefined
        ? "the OIDC token's issuer is not an identity provider of any account"
        : `the OIDC token's issuer is not an identity provider of account "${accountId}"`,
    );
  }
  const claimed = audiences(unverified);
  if (claimed.length > 1 && typeof unverified.azp !== "string") {
    throw unauthenticated(`the OIDC token names several audiences and no "azp" claim; it must name the client it was issued to`);
  }
  const clientId = claimed.length > 1 ? (unverified.azp as string) : claimed[0];
  const candidates = sameIssuer.filter((p) => p.client_id === clientId && claimed.includes(p.client_id));
  // At most one READY provider holds a pair; a DISABLED one refuses with its sentence once the token verifies.
  const row = candidates.find((p) => p.state === "READY") ?? candidates[0];
  if (!row) throw unauthenticated(`the OIDC token's "aud" claim is not valid (check_failed)`);
  let claims: JWTPayload;
  try {
    const keys = await issuerKeys(deps, row);
    ({ payload: claims } = await jwtVerify(token, keys, {
      issuer: row.issuer_url,
      audience: row.client_id,
      algorithms: ASYMMETRIC,
      requiredClaims: ["exp", "iat", "sub"],
      clockTolerance: CLOCK_TOLERANCE_S,
    }));
  } catch (error) {
    throw verificationError(error);
  }
  return humanPrincipal(await userForClaims(deps, row, claims, "oidc-token", meta));
}
