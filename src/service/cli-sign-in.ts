import * as client from "openid-client";
import { ApiError, invalidArgument, unauthenticated } from "../domain/errors.ts";
import { open, seal } from "../domain/secret-box.ts";
import { digestToken, isTokenShaped, newToken, pkceChallenge, tokensEqual } from "../domain/sign-in.ts";
import { formatTimestamp } from "../domain/time.ts";
import { deleteExpiredCliGrants, insertCliGrant, takeCliGrant } from "../store/cli-grants.ts";
import { cliSignedOut } from "../store/cli-sign-outs.ts";
import { getUser } from "../store/users.ts";
import type { UserRow } from "../store/schema.ts";
import type { RequestMeta } from "./context.ts";
import { oidcConfiguration } from "./oidc-discovery.ts";
import { providerRefusal, providerRow, userForTokens, verifyOidcLogin, type LoginState } from "./oidc-login.ts";
import { serverKey } from "./server-key.ts";
import { auditSignIn, recordSignIn, type SignInDeps } from "./sign-in.ts";
import type { CliCredentials } from "../http/resources/sign-in.ts";
import { userName } from "../domain/resource-names.ts";

/**
 * `firectl signin`: the browser signs in through the account's identity provider exactly as for the
 * console (Hearth's own redirect URI and client secret), but instead of a session the outcome is a
 * one-time code sent to firectl's loopback listener. firectl redeems the code with its PKCE verifier
 * for the provider's ID token (and refresh token, where the provider issues one), and calls the API
 * with that token as a human would. Refreshing goes through Hearth too, since only Hearth holds the
 * client secret.
 */
const GRANT_TTL_MS = 2 * 60 * 1000;
const GRANT_CONTEXT = "cli-grant";

interface SealedTokens {
  idToken: string;
  /** The provider's refresh token, which firectl only ever sees sealed (`sealRefresh`). */
  refreshToken?: string;
  expires: number;
  /** When the browser sign-in behind these tokens finished (epoch ms); kept across refreshes. */
  signInTime: number;
  /** The issuer that issued them (the provider's `issuerUrl` then); absent in grants sealed before it was recorded. */
  issuerUrl?: string;
}

/**
 * What firectl holds as its refresh token: the provider's, sealed with the server key for this
 * provider, with the user and the time of the browser sign-in it descends from, so that an admin's
 * `:revokeSessions` (or the user's deletion) ends it too. Format: `secret-box.ts`'s, opaque to firectl.
 */
export interface RefreshEnvelope {
  refreshToken: string;
  userId: string;
  signInTime: number;
  /**
   * The issuer of `refreshToken`, to which alone it is sent back (`refreshCliSignIn`); absent in
   * envelopes sealed before it was recorded.
   */
  issuerUrl?: string;
}

const refreshContext = (accountId: string, idpId: string): string => `cli-refresh:${accountId}/${idpId}`;

/** firectl's refresh token for `envelope` (see `RefreshEnvelope`). */
export function sealRefresh(deps: SignInDeps, accountId: string, idpId: string, envelope: RefreshEnvelope): string {
  return seal(serverKey(deps.config), JSON.stringify(envelope), refreshContext(accountId, idpId));
}

const badRefresh = (): ApiError => unauthenticated("the refresh token is not valid for this identity provider; run 'firectl signin' again");

/** @throws UNAUTHENTICATED when `token` is not a refresh token Hearth sealed for this provider. */
export function openRefresh(deps: SignInDeps, accountId: string, idpId: string, token: string): RefreshEnvelope {
  const text = open(serverKey(deps.config), token, refreshContext(accountId, idpId));
  if (text === undefined) throw badRefresh();
  return JSON.parse(text) as RefreshEnvelope;
}

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

function tokensOf(tokens: Tokens, issuerUrl: string, signInTime: number, previousRefreshToken?: string): SealedTokens {
  const exp = tokens.claims()?.exp;
  if (!tokens.id_token || exp === undefined) throw unauthenticated("the identity provider returned no ID token; run 'firectl signin' again");
  const refreshToken = tokens.refresh_token ?? previousRefreshToken;
  return { idToken: tokens.id_token, ...(refreshToken ? { refreshToken } : {}), expires: exp * 1000, signInTime, issuerUrl };
}

function credentials(deps: SignInDeps, accountId: string, idpId: string, user: { id: string; email: string }, sealed: SealedTokens): CliCredentials {
  const refresh =
    sealed.refreshToken &&
    sealRefresh(deps, accountId, idpId, {
      refreshToken: sealed.refreshToken,
      userId: user.id,
      signInTime: sealed.signInTime,
      ...(sealed.issuerUrl === undefined ? {} : { issuerUrl: sealed.issuerUrl }),
    });
  return {
    accountId,
    identityProviderId: idpId,
    user: userName(accountId, user.id),
    email: user.email,
    idToken: sealed.idToken,
    ...(refresh ? { refreshToken: refresh } : {}),
    expireTime: formatTimestamp(sealed.expires),
  };
}

/** Where the browser goes after the identity provider answered a firectl sign-in: firectl's listener, with a code or an error. */
export async function finishCliLogin(deps: SignInDeps, login: LoginState, callback: URLSearchParams, meta: RequestMeta): Promise<string> {
  const cli = login.cli!;
  const back = new URL(cli.redirectUri);
  back.searchParams.set("state", cli.state);
  try {
    const { row, user, tokens } = await verifyOidcLogin(deps, login, callback, meta);
    const code = newToken();
    const now = Date.now();
    const sealed = seal(serverKey(deps.config), JSON.stringify(tokensOf(tokens, row.issuer_url, now)), GRANT_CONTEXT);
    await deps.store.db.transaction().execute(async (trx) => {
      await deleteExpiredCliGrants(trx, now);
      await insertCliGrant(trx, {
        digest: digestToken(code),
        account_id: row.account_id,
        user_id: user.id,
        identity_provider_id: row.id,
        code_challenge: cli.codeChallenge,
        tokens: sealed,
        expire_time: now + GRANT_TTL_MS,
      });
      await auditSignIn(trx, user, "oidc", meta, { identityProvider: row.id, client: "firectl" });
      await recordSignIn(deps, trx, user);
    });
    back.searchParams.set("code", code);
  } catch (error) {
    // firectl prints the sentence; a 500 stays a 500 (its detail is never sent anywhere).
    if (!(error instanceof ApiError)) throw error;
    back.searchParams.set("error", "access_denied");
    back.searchParams.set("error_description", error.message);
  }
  return back.href;
}

const badCode = (): ApiError => invalidArgument("the sign-in code is not valid, was already used or has expired; run 'firectl signin' again");

/** firectl trades the one-time code and its PKCE verifier for the tokens. The code is used up whatever the outcome. */
export async function redeemCliGrant(deps: SignInDeps, code: string, verifier: string): Promise<CliCredentials> {
  if (!isTokenShaped(code)) throw badCode();
  const grant = await takeCliGrant(deps.store.db, digestToken(code));
  if (!grant || grant.expire_time <= Date.now()) throw badCode();
  if (!tokensEqual(pkceChallenge(verifier), grant.code_challenge))
    throw invalidArgument("the code verifier does not match this sign-in (PKCE); run 'firectl signin' again");
  const user = await getUser(deps.store.db, grant.account_id, grant.user_id);
  const text = open(serverKey(deps.config), grant.tokens, GRANT_CONTEXT);
  if (!user || text === undefined) throw badCode();
  return credentials(deps, grant.account_id, grant.identity_provider_id, user, JSON.parse(text) as SealedTokens);
}

/**
 * A new ID token for a refresh token, from the provider that issued it, with Hearth's client
 * secret. The new token goes through the same rules as a sign-in (oidc-principal.ts): a user turned
 * service account since, or another subject, is refused; the renewal is audited like a sign-in.
 */
export async function refreshCliSignIn(deps: SignInDeps, accountId: string, idpId: string, refreshToken: string, meta: RequestMeta): Promise<CliCredentials> {
  const envelope = openRefresh(deps, accountId, idpId, refreshToken);
  checkSignInLives(await getUser(deps.store.db, accountId, envelope.userId), envelope.signInTime);
  if (await cliSignedOut(deps.store.db, accountId, envelope.userId, envelope.signInTime)) {
    throw unauthenticated("this firectl sign-in was ended with 'firectl signout'; run 'firectl signin' again");
  }
  const row = await providerRow(deps, accountId, idpId);
  // The provider's refresh token goes back only to the issuer that issued it: an admin may have moved
  // the provider to another issuer since, which would otherwise be handed every renewing user's token.
  // An envelope sealed before its issuer was recorded is taken while the provider has not changed since.
  if (envelope.issuerUrl === undefined ? row.update_time > envelope.signInTime : envelope.issuerUrl !== row.issuer_url) {
    throw unauthenticated(`identity provider "${idpId}" has changed since this firectl sign-in; run 'firectl signin' again`);
  }
  const config = await oidcConfiguration(deps, row);
  let tokens: Tokens;
  try {
    tokens = await client.refreshTokenGrant(config, envelope.refreshToken);
  } catch (error) {
    throw providerRefusal(error, "the refresh token (run 'firectl signin' again)");
  }
  const sealed = tokensOf(tokens, row.issuer_url, envelope.signInTime, envelope.refreshToken);
  // The same rules as any sign-in: the renewed token must still name the bound human, the same one.
  const user = await userForTokens(deps, row, config, tokens, "oidc-refresh", meta);
  if (user.id !== envelope.userId) throw unauthenticated("the refreshed sign-in names another user than the one who signed in; run 'firectl signin' again");
  await auditSignIn(deps.store.db, user, "oidc-refresh", meta, { identityProvider: row.id, client: "firectl" });
  await recordSignIn(deps, deps.store.db, user);
  return credentials(deps, accountId, idpId, user, sealed);
}

/**
 * A firectl sign-in made at `signInTime` (epoch ms) lives while its user does and no admin has
 * revoked the user's sessions since.
 * @throws UNAUTHENTICATED saying which.
 */
function checkSignInLives(user: UserRow | undefined, signInTime: number): void {
  if (!user) throw unauthenticated("the user who signed in no longer exists; run 'firectl signin' again");
  if (signInTime <= (user.sessions_revoke_time ?? 0)) {
    throw unauthenticated(`an admin revoked the sign-ins of "${user.email}" after this firectl sign-in; run 'firectl signin' again`);
  }
}
