import * as client from "openid-client";
import { ApiError, invalidArgument, notFound, unauthenticated } from "../domain/errors.ts";
import { open, seal } from "../domain/secret-box.ts";
import { digestToken, safeNextPath, tokensEqual } from "../domain/sign-in.ts";
import { getIdentityProvider } from "../store/identity-providers.ts";
import { claimUsedLoginState } from "../store/used-login-states.ts";
import type { IdentityProviderRow, UserRow } from "../store/schema.ts";
import type { RequestMeta } from "./context.ts";
import { oidcConfiguration, providerUnavailable } from "./oidc-discovery.ts";
import { providerDisabled, userForClaims, type IdentityClaims } from "./oidc-principal.ts";
import { serverKey } from "./server-key.ts";
import { startSession, type NewSession } from "./sessions.ts";
import { auditSignIn, type SignInDeps, type SignInVia } from "./sign-in.ts";

/**
 * Web sign-in through an account's identity provider: OIDC authorization code flow with PKCE,
 * state and nonce. What the callback must check is kept in a short-lived cookie sealed with the
 * server key (so any process can finish a login another one began, and nothing is stored for
 * logins that are never finished).
 */
export const LOGIN_COOKIE = "hearth_oidc";
const LOGIN_TTL_MS = 10 * 60 * 1000;
const LOGIN_CONTEXT = "oidc-login";

export interface LoginState {
  accountId: string;
  idpId: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  next: string;
  expires: number;
  /** Set when firectl began the sign-in: where its loopback listener waits for the outcome. */
  cli?: CliRequest;
}

/** firectl's side of a sign-in (RFC 8252): its loopback redirect, its state and its PKCE challenge. */
export interface CliRequest {
  redirectUri: string;
  state: string;
  codeChallenge: string;
}

export interface LoginStart {
  authorizationUrl: string;
  /** Sealed LoginState for the `hearth_oidc` cookie. */
  cookie: string;
  maxAgeSeconds: number;
}

export async function providerRow(deps: SignInDeps, accountId: string, idpId: string): Promise<IdentityProviderRow> {
  const row = await getIdentityProvider(deps.store.db, accountId, idpId);
  if (!row) throw notFound(`identity provider "${idpId}" not found in account "${accountId}"`);
  return row;
}

/**
 * Where to send the browser to sign in with `idpId`, and the state to keep until it returns. A
 * sign-in for firectl also asks for a refresh token where the provider offers `offline_access`
 * (which OIDC ties to an explicit consent prompt), so the command line stays signed in.
 */
export async function beginOidcLogin(
  deps: SignInDeps,
  accountId: string,
  idpId: string,
  redirectUri: string,
  next: string | undefined,
  cli?: CliRequest,
): Promise<LoginStart> {
  const row = await providerRow(deps, accountId, idpId);
  if (row.state !== "READY") throw providerDisabled(row);
  const config = await oidcConfiguration(deps, row);
  const offline = cli !== undefined && (config.serverMetadata().scopes_supported ?? []).includes("offline_access");
  const login: LoginState = {
    accountId,
    idpId,
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    redirectUri,
    next: safeNextPath(next),
    expires: Date.now() + LOGIN_TTL_MS,
    ...(cli ? { cli } : {}),
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    response_type: "code",
    scope: offline ? "openid email profile offline_access" : "openid email profile",
    ...(offline ? { prompt: "consent" } : {}),
    state: login.state,
    nonce: login.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
    code_challenge_method: "S256",
  });
  return {
    authorizationUrl: url.href,
    cookie: seal(serverKey(deps.config), JSON.stringify(login), LOGIN_CONTEXT),
    maxAgeSeconds: LOGIN_TTL_MS / 1000,
  };
}

/** The sealed state of the sign-in this browser began; refused when missing, tampered with or stale. */
export function readLoginState(deps: SignInDeps, cookie: string | undefined): LoginState {
  const text = cookie === undefined ? undefined : open(serverKey(deps.config), cookie, LOGIN_CONTEXT);
  const login = text === undefined ? undefined : (JSON.parse(text) as LoginState);
  if (!login) throw invalidArgument("no sign-in is in progress in this browser (the sign-in cookie is missing or not valid); start again");
  if (login.expires <= Date.now()) throw invalidArgument("the sign-in took longer than 10 minutes; start again");
  return login;
}

/**
 * Takes the sign-in's state for its one callback. The cookie is cleared when the callback is
 * answered, but a client other than a browser may keep sending it, and each callback costs a call
 * to the provider's token endpoint: the state is remembered in the store (shared by every process)
 * until the cookie expires, and a second callback with it is refused (INVALID_ARGUMENT).
 */
export async function claimLoginState(deps: SignInDeps, login: LoginState): Promise<void> {
  const digest = digestToken(login.state);
  if (!(await claimUsedLoginState(deps.store.db, digest, login.expires, Date.now()))) {
    throw invalidArgument("this sign-in was already finished or abandoned (its state was used); start again");
  }
}

/**
 * The ID token's claims, with `email` and `email_verified` from the UserInfo endpoint when the
 * token does not carry an email (UserInfo's `sub` must match the token's: openid-client checks it).
 */
async function claimsWithEmail(
  row: IdentityProviderRow,
  config: client.Configuration,
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
): Promise<IdentityClaims> {
  const claims = tokens.claims();
  if (!claims) throw unauthenticated("the identity provider returned no ID token");
  if (typeof claims.email === "string") return claims;
  let info: client.UserInfoResponse;
  try {
    info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  } catch (error) {
    // Unreachable, refused address, bad answer or another subject: the one sentence of every provider fetch.
    if (error instanceof ApiError) throw error;
    throw providerUnavailable(row);
  }
  return { ...claims, email: info.email, email_verified: info.email_verified };
}

/**
 * The human a token response names in `row`'s account: the one rule set of oidc-principal.ts
 * (verified email, tenant domain or existing binding, subject binding, token lifetime and `azp`).
 */
export async function userForTokens(
  deps: SignInDeps,
  row: IdentityProviderRow,
  config: client.Configuration,
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  via: SignInVia,
  meta: RequestMeta,
): Promise<UserRow> {
  return userForClaims(deps, row, await claimsWithEmail(row, config, tokens), via, meta);
}

/** Who signed in, through which provider, and what the provider issued. */
export interface VerifiedLogin {
  row: IdentityProviderRow;
  user: UserRow;
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
}

/**
 * The IdP's redirect back: checks state, PKCE, nonce and issuer (openid-client), then maps the
 * claims to a human of the account (or provisions one) by the rules of oidc-principal.ts.
 */
export async function verifyOidcLogin(deps: SignInDeps, login: LoginState, callback: URLSearchParams, meta: RequestMeta): Promise<VerifiedLogin> {
  if (!tokensEqual(callback.get("state") ?? "", login.state))
    throw invalidArgument("the sign-in response does not belong to this browser's sign-in (state mismatch); start again");
  const row = await providerRow(deps, login.accountId, login.idpId);
  const config = await oidcConfiguration(deps, row);
  const currentUrl = new URL(login.redirectUri);
  currentUrl.search = callback.toString();
  let tokens;
  try {
    tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    throw providerRefusal(error, "the sign-in");
  }
  return { row, user: await userForTokens(deps, row, config, tokens, "oidc", meta), tokens };
}

/** An error of openid-client's token exchange (code or refresh), as the sentence the caller sees. */
export function providerRefusal(error: unknown, what: string): ApiError {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return unauthenticated(`the identity provider refused ${what}: ${error.error}`);
  }
  if (error instanceof ApiError) return error;
  // Issuer, audience, nonce, signature or expiry of the response did not check out.
  return unauthenticated(`the identity provider's answer to ${what} did not verify; start again`);
}

/** A web sign-in that verified: starts the browser's session. */
export async function finishOidcLogin(
  deps: SignInDeps,
  login: LoginState,
  callback: URLSearchParams,
  meta: RequestMeta,
): Promise<{ session: NewSession; next: string }> {
  const { row, user } = await verifyOidcLogin(deps, login, callback, meta);
  const session = await deps.store.db.transaction().execute(async (trx) => {
    const started = await startSession(deps, trx, user, `oidc:${row.id}`, Date.now());
    await auditSignIn(trx, user, "oidc", meta, { identityProvider: row.id });
    return started;
  });
  return { session, next: login.next };
}
