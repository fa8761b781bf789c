import * as client from "openid-client";
import { ApiError, invalidArgument, notFound, permissionDenied, unauthenticated } from "../domain/errors.ts";
import { checkEmail, idFromEmail, userName } from "../domain/ids.ts";
import { open, seal } from "../domain/secret-box.ts";
import { domainAllowed, safeNextPath, tokensEqual } from "../domain/sign-in.ts";
import { getAccount } from "../store/accounts.ts";
import { getIdentityProvider } from "../store/identity-providers.ts";
import type { IdentityProviderRow, UserRow } from "../store/schema.ts";
import { getUser, getUserByEmail, insertUser } from "../store/users.ts";
import { writeAudit } from "./audit.ts";
import type { RequestMeta } from "./context.ts";
import { oidcConfiguration } from "./oidc-discovery.ts";
import { serverKey } from "./server-key.ts";
import { startSession, type NewSession } from "./sessions.ts";
import { auditSignIn, refuseServiceAccount, type SignInDeps } from "./sign-in.ts";

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

/** The human's email from the ID token, or from the UserInfo endpoint when the token does not carry it. */
export async function verifiedEmail(config: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<string> {
  const claims = tokens.claims();
  if (!claims) throw unauthenticated("the identity provider returned no ID token");
  let email = claims.email;
  let verified = claims.email_verified;
  if (typeof email !== "string") {
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    email = info.email;
    verified = info.email_verified;
  }
  if (typeof email !== "string") throw unauthenticated("the identity provider did not share an email address (request the email scope)");
  if (verified === false) throw permissionDenied(`the identity provider has not verified the email "${email}"`);
  return checkEmail(email);
}

/** Creates a user on first sign-in, when the provider allows it for the email's domain. */
export async function provisionUser(deps: SignInDeps, row: IdentityProviderRow, email: string, meta: RequestMeta): Promise<UserRow> {
  const account = await getAccount(deps.store.db, row.account_id);
  if (!row.enable_jit || !account || !domainAllowed(email, JSON.parse(row.tenant_domains) as string[], account.email)) {
    throw permissionDenied(`"${email}" is not a user of account "${row.account_id}"; ask an admin to add you`);
  }
  const now = Date.now();
  let id = idFromEmail(email);
  if (await getUser(deps.store.db, row.account_id, id)) id = `${id.slice(0, 56)}-${now.toString(36).slice(-6)}`;
  const user: UserRow = {
    account_id: row.account_id,
    id,
    display_name: "",
    email,
    role: row.jit_default_role,
    service_account: 0,
    state: "READY",
    create_time: now,
    update_time: now,
  };
  try {
    await deps.store.db.transaction().execute(async (trx) => {
      await insertUser(trx, user);
      const actor = { accountId: row.account_id, email, apiKeyId: "", meta };
      const payload = { email, role: user.role, jitUserProvisioning: true, identityProvider: row.id };
      await writeAudit(trx, actor, { method: "CreateUser", resource: userName(row.account_id, id), isAdminAction: true, payload });
    });
  } catch (error) {
    // Two first sign-ins racing (two tabs): the one that lost finds the user the other created.
    const created = error instanceof ApiError && error.status === "ALREADY_EXISTS" ? await getUserByEmail(deps.store.db, row.account_id, email) : undefined;
    if (!created || created.service_account === 1) throw error;
    return created;
  }
  return user;
}

/** Who signed in, through which provider, and what the provider issued. */
export interface VerifiedLogin {
  row: IdentityProviderRow;
  user: UserRow;
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
}

/**
 * The IdP's redirect back: checks state, PKCE, nonce and issuer (openid-client), maps the verified
 * email to a human of the account (or provisions one) and refuses service accounts.
 */
export async function verifyOidcLogin(deps: SignInDeps, login: LoginState, callback: URLSearchParams, meta: RequestMeta): Promise<VerifiedLogin> {
  if (!tokensEqual(callback.get("state") ?? "", login.state)) throw invalidArgument("the sign-in response does not belong to this browser's sign-in (state mismatch); start again");
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
  const email = await verifiedEmail(config, tokens);
  const existing = await getUserByEmail(deps.store.db, row.account_id, email);
  if (existing?.service_account === 1) throw await refuseServiceAccount(deps, existing, "oidc", meta);
  try {
    return { row, user: existing ?? (await provisionUser(deps, row, email, meta)), tokens };
  } catch (error) {
    const op = { method: "SignIn", resource: userName(row.account_id, idFromEmail(email)), isAdminAction: false, payload: { via: "oidc", identityProvider: row.id } };
    await writeAudit(deps.store.db, { accountId: row.account_id, email, apiKeyId: "", meta }, op, error).catch(() => undefined);
    throw error;
  }
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
export async function finishOidcLogin(deps: SignInDeps, login: LoginState, callback: URLSearchParams, meta: RequestMeta): Promise<{ session: NewSession; next: string }> {
  const { row, user } = await verifyOidcLogin(deps, login, callback, meta);
  const session = await deps.store.db.transaction().execute(async (trx) => {
    const started = await startSession(deps, trx, user, `oidc:${row.id}`, Date.now());
    await auditSignIn(trx, user, "oidc", meta, { identityProvider: row.id });
    return started;
  });
  return { session, next: login.next };
}
