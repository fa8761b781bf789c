import { unauthenticated } from "../domain/errors.ts";
import { digestToken, isTokenShaped, newToken } from "../domain/sign-in.ts";
import * as sessions from "../store/sessions.ts";
import { lockAccount } from "../store/accounts.ts";
import type { Db } from "../store/store.ts";
import { audited } from "./audit.ts";
import type { Principal } from "../domain/principal.ts";
import type { Ctx, Deps, RequestMeta } from "./context.ts";
import { authorize } from "./permissions.ts";
import { auditSignIn, humanPrincipal, recordSignIn, refuseServiceAccount, type SignInDeps, type SignInUser } from "./sign-in.ts";
import { getUserRow } from "./users.ts";
import { setSessionsRevokeTime } from "../store/users.ts";
import { requireGrantable } from "./permission-presets.ts";
import { userName } from "../domain/resource-names.ts";

/**
 * Server-side sessions for humans in the browser. The cookie holds a random id; the store holds
 * only its SHA-256 digest, so any number of processes share sessions through the database and a
 * copy of the database signs nobody in. A session ends after `idleMs` without a request, after
 * `maxMs` whatever the activity, at sign-out, or when an admin revokes the user's sessions.
 */
export interface NewSession {
  /** The cookie value (shown to the browser only). */
  token: string;
  csrfToken: string;
  maxAgeSeconds: number;
}

/** Starts a session for `user` inside the caller's transaction. */
export async function startSession(deps: SignInDeps, trx: Db, user: SignInUser, via: string, now: number): Promise<NewSession> {
  const { idleMs, maxMs } = deps.config.session;
  await sessions.deleteEndedSessions(trx, user.account_id, user.id, now, idleMs);
  await recordSignIn(deps, trx, user);
  const token = newToken();
  const csrfToken = newToken();
  await sessions.insertSession(trx, {
    digest: digestToken(token),
    account_id: user.account_id,
    user_id: user.id,
    csrf_token: csrfToken,
    via,
    create_time: now,
    last_seen: now,
    expire_time: now + maxMs,
  });
  return { token, csrfToken, maxAgeSeconds: Math.floor(maxMs / 1000) };
}

export interface SessionPrincipal {
  principal: Principal;
  csrfToken: string;
  /** When the session ends at the latest (epoch ms). */
  expireTime: number;
}

/** `last_seen` is written at most this often per session, so a busy console is not a write per request. */
const TOUCH_EVERY_MS = 60_000;

/** Resolves a session cookie to its human principal; an ended session is refused and removed. */
export async function authenticateSession(deps: SignInDeps, token: string, meta: RequestMeta): Promise<SessionPrincipal> {
  if (!isTokenShaped(token)) throw unauthenticated("the session is not valid; sign in again");
  const digest = digestToken(token);
  const db = deps.store.db;
  const row = await sessions.findSession(db, digest);
  if (!row) throw unauthenticated("the session is not valid; sign in again");
  const now = Date.now();
  const { idleMs } = deps.config.session;
  if (row.expire_time <= now || row.last_seen + idleMs <= now) {
    await sessions.deleteSession(db, digest);
    throw unauthenticated("the session has ended; sign in again");
  }
  const user = { ...row, id: row.user_id };
  if (row.service_account === 1) {
    await sessions.deleteSession(db, digest);
    throw await refuseServiceAccount(deps, user, "session", meta);
  }
  if (now - row.last_seen >= Math.min(TOUCH_EVERY_MS, idleMs / 4)) await sessions.touchSession(db, digest, now);
  return { principal: humanPrincipal(user), csrfToken: row.csrf_token, expireTime: row.expire_time };
}

/** Sign-out: ends the session behind `token`, if it is still there. */
export async function endSession(deps: SignInDeps, token: string, meta: RequestMeta): Promise<void> {
  if (!isTokenShaped(token)) return;
  const digest = digestToken(token);
  await deps.store.db.transaction().execute(async (trx) => {
    const row = await sessions.findSession(trx, digest);
    if (!row) return;
    await sessions.deleteSession(trx, digest);
    await auditSignIn(trx, { ...row, id: row.user_id }, "session", meta, {}, undefined, "SignOut");
  });
}

/**
 * Admin: ends every sign-in of a user: its console sessions, and the ID tokens, firectl sign-ins and
 * sign-in links made until now (`sessions_revoke_time`, checked by `userForClaims`, `refreshCliSignIn`
 * and `redeemSigninLink`). Its
 * API keys are untouched.
 * @returns how many console sessions ended.
 */
export async function revokeSessions(deps: Deps, ctx: Ctx, accountId: string, userId: string): Promise<{ revokedSessions: number }> {
  const op = { method: "RevokeSessions", resource: userName(accountId, userId) };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "users.revokeSessions");
    // Locked before the role is read and judged, as every act on a principal's rank is (updateUser).
    await lockAccount(deps.store, trx, accountId);
    const row = await getUserRow(trx, accountId, userId);
    await requireGrantable(trx, ctx, accountId, row.role, row.permission_preset, "revoke the sessions of a principal with");
    await setSessionsRevokeTime(trx, accountId, userId, Date.now());
    return { revokedSessions: await sessions.deleteUserSessions(trx, accountId, userId) };
  });
}
