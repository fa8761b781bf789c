/**
 * @module One-time sign-in links (docs/sign-in.md): an operator hands one to a human; it works once, within 15
 * minutes. Only the token's digest is stored.
 */
import { ApiError, notFound, permissionDenied, unauthenticated } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import { normalizedEmail } from "../domain/email-address.ts";
import { digestToken, isTokenShaped, newToken, SIGNIN_LINK_TTL_MS } from "../domain/sign-in.ts";
import { formatTimestamp } from "../domain/time.ts";
import { getAccount } from "../store/accounts.ts";
import { accountEnforcesSso } from "../store/identity-providers.ts";
import * as links from "../store/signin-links.ts";
import { getUserByEmail } from "../store/users.ts";
import { getServerSetting } from "../store/server-settings.ts";
import type { RequestMeta } from "./context.ts";
import { auditOperator, OPERATOR_META } from "./operator-audit.ts";
import { startSession, type NewSession } from "./sessions.ts";
import { auditSignIn, refuseServiceAccount, type SignInDeps } from "./sign-in.ts";
import { userName } from "../domain/resource-names.ts";

export interface SigninLink {
  url: string;
  email: string;
  expireTime: string;
}

const enforcedSso = (accountId: string): ApiError =>
  permissionDenied(`account "${accountId}" enforces single sign-on: sign in through its identity provider (API keys are unaffected)`);

/**
 * The base URL printed in links: HEARTH_PUBLIC_URL, else the URL the serving process recorded at start
 * (so `hearth signin-link` in an operator shell without the server's HEARTH_PORT still points at it),
 * else this configuration's listen address.
 */
async function linkBaseUrl(deps: SignInDeps): Promise<string> {
  if (deps.config.publicUrl) return deps.config.publicUrl;
  const recorded = await getServerSetting(deps.store.db, "public_url");
  if (recorded) return recorded;
  const host = deps.config.host.includes(":") ? `[${deps.config.host}]` : deps.config.host;
  return `http://${host}:${deps.config.port}`;
}

/**
 * Operator action: a link for a human of the account. A service account is refused (and the
 * refusal audited); so is a human of an account that enforces SSO.
 */
export async function createSigninLink(deps: SignInDeps, accountId: string, emailInput: string, baseUrlGiven?: string): Promise<SigninLink> {
  const baseUrl = baseUrlGiven ?? (await linkBaseUrl(deps));
  // An existing user is looked up: an email stored before the look-alike rule still finds its user.
  const email = normalizedEmail(emailInput);
  const db = deps.store.db;
  if (!(await getAccount(db, accountId))) throw notFound(`account "${accountId}" not found`);
  const user = await getUserByEmail(db, accountId, email);
  if (!user) throw notFound(`no user with email ${quoted(email)} in account "${accountId}"`);
  if (user.service_account === 1) throw await refuseServiceAccount(deps, user, "link", OPERATOR_META);
  if (await accountEnforcesSso(db, accountId)) throw enforcedSso(accountId);
  const token = newToken();
  const now = Date.now();
  const expireTime = now + SIGNIN_LINK_TTL_MS;
  await db.transaction().execute(async (trx) => {
    await links.deleteOldSigninLinks(trx, now);
    await links.insertSigninLink(trx, {
      digest: digestToken(token),
      account_id: accountId,
      user_id: user.id,
      create_time: now,
      expire_time: expireTime,
      used_time: null,
    });
    await auditOperator(trx, accountId, { method: "CreateSigninLink", resource: userName(accountId, user.id), payload: { email } });
  });
  return { url: `${baseUrl.replace(/\/+$/, "")}/auth/link/${token}`, email, expireTime: formatTimestamp(expireTime) };
}

/** Visiting a link: checks it, uses it up and starts a session, all in one transaction. */
export async function redeemSigninLink(deps: SignInDeps, token: string, meta: RequestMeta): Promise<NewSession> {
  const invalid = unauthenticated("this sign-in link is not valid; ask for a new one");
  if (!isTokenShaped(token)) throw invalid;
  const digest = digestToken(token);
  const db = deps.store.db;
  const link = await links.findSigninLink(db, digest);
  if (!link) throw invalid;
  const now = Date.now();
  if (link.used_time !== null) throw unauthenticated("this sign-in link was already used; ask for a new one");
  if (link.expire_time <= now) throw unauthenticated("this sign-in link has expired; ask for a new one");
  const user = { ...link, id: link.user_id };
  if (link.service_account === 1) throw await refuseServiceAccount(deps, user, "link", meta);
  // A link made before an admin ended the user's sign-ins (`revokeSessions`) is one of them.
  if (link.create_time <= (link.sessions_revoke_time ?? 0)) {
    const error = unauthenticated("this sign-in link was made before the user's sessions were revoked; ask for a new one");
    await auditSignIn(db, user, "link", meta, {}, error);
    throw error;
  }
  if (await accountEnforcesSso(db, link.account_id)) {
    const error = enforcedSso(link.account_id);
    await auditSignIn(db, user, "link", meta, {}, error);
    throw error;
  }
  return db.transaction().execute(async (trx) => {
    // The claim is conditional on the link being unused: of two visits racing, one wins.
    if (!(await links.claimSigninLink(trx, digest, now))) throw unauthenticated("this sign-in link was already used; ask for a new one");
    const session = await startSession(deps, trx, user, "link", now);
    await auditSignIn(trx, user, "link", meta);
    return session;
  });
}
