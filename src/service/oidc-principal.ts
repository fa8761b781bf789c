import { ApiError, permissionDenied, unauthenticated } from "../domain/errors.ts";
import { checkEmail, idFromEmail } from "../domain/ids.ts";
import { quoted } from "../domain/display-text.ts";
import { domainAllowed } from "../domain/sign-in.ts";
import { getAccount } from "../store/accounts.ts";
import { bindingOfSubject, getBinding, insertBinding } from "../store/identity-bindings.ts";
import type { IdentityProviderRow, UserRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { getUser, getUserByEmail, insertUser } from "../store/users.ts";
import { writeAudit } from "./audit.ts";
import type { RequestMeta } from "./context.ts";
import { enqueueSignInRefused, refuseServiceAccount, SignInRefusal, type SignInDeps, type SignInVia } from "./sign-in.ts";
import { collectionName, userName } from "../domain/resource-names.ts";
import { enqueueWebhookEvent, principalData } from "./webhook-events.ts";
import { reserve } from "./quotas.ts";
import { systemClock } from "../domain/clock.ts";

/**
 * @module The one way verified OIDC claims become a human of an account, shared by the browser
 * callback, bearer ID tokens and `firectl signin` (and its refresh). The caller has checked the
 * token's signature, `iss`, `aud` and expiry; here the provider's policy is applied:
 *
 * - the provider must be READY (a DISABLED one lost its issuer and client id to another account);
 * - with several audiences `azp` must be the client id, and `exp - iat` must stay within
 *   HEARTH_OIDC_MAX_TOKEN_LIFETIME_S (OIDC Core §2, §3.1.3.7);
 * - `email_verified` must be the boolean `true` (a missing claim only where the provider is set to
 *   `trustEmailWithoutVerifiedClaim`), and the email must pass the same check as `POST /users`;
 * - an ID token issued before an admin revoked the user's sessions is refused;
 * - an existing user is matched only when already bound to this provider's `(iss, sub)`, or, on the
 *   first sign-in, when the email's domain is one of the provider's tenant domains (none: the domain
 *   of the account's email); that first sign-in binds the user, and a later token with the same
 *   email but another subject is refused until an admin removes the binding.
 *
 * Every refusal is audited in the provider's account (`SignIn`, with `via`) and thrown as a `SignInRefusal`.
 */

/** The claims this module reads; `email`/`email_verified` may come from UserInfo where the ID token lacked them. */
export interface IdentityClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  azp?: unknown;
  iat?: unknown;
  exp?: unknown;
  email?: unknown;
  email_verified?: unknown;
}

/** The refusal of a disabled provider (its issuer and client id belong to another account). */
export function providerDisabled(row: IdentityProviderRow): ApiError {
  return permissionDenied(
    `identity provider "${row.id}" of account "${row.account_id}" is disabled: its issuer and client id are registered to another account; ask the operator`,
  );
}

function audiencesOf(aud: unknown): string[] {
  if (typeof aud === "string") return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
}

/**
 * Token rules beyond signature and expiry: the audience names this client (with several, `azp`
 * must be it), and the token lives at most `maxLifetimeS` seconds (`exp - iat`; `iat` required).
 * @throws UNAUTHENTICATED naming the claim.
 */
function checkTokenClaims(claims: IdentityClaims, clientId: string, maxLifetimeS: number): void {
  const aud = audiencesOf(claims.aud);
  if (!aud.includes(clientId)) throw unauthenticated(`the OIDC token's "aud" claim is not valid (check_failed)`);
  if (aud.length > 1 && claims.azp !== clientId) {
    throw unauthenticated(`the OIDC token names several audiences, so its "azp" claim must be the client id "${clientId}"`);
  }
  if (claims.azp !== undefined && claims.azp !== clientId) throw unauthenticated(`the OIDC token's "azp" claim is not valid (check_failed)`);
  if (typeof claims.iat !== "number" || typeof claims.exp !== "number") throw unauthenticated(`the OIDC token has no "iat" or "exp" claim`);
  const lifetime = claims.exp - claims.iat;
  if (lifetime > maxLifetimeS) {
    throw unauthenticated(`the OIDC token is valid for ${lifetime} seconds, longer than the ${maxLifetimeS} allowed (HEARTH_OIDC_MAX_TOKEN_LIFETIME_S)`);
  }
}

/** The asserted email, lowercased, when it passes `checkEmail`. @throws UNAUTHENTICATED without one, PERMISSION_DENIED when malformed. */
function assertedEmail(claims: IdentityClaims): string {
  const raw = claims.email;
  if (typeof raw !== "string" || raw === "") throw unauthenticated("the identity provider did not share an email address (request the email scope)");
  try {
    return checkEmail(raw);
  } catch {
    throw permissionDenied(`the identity provider's email ${quoted(raw)} is not a valid email address`);
  }
}

/** Whether the provider vouches for the email. @throws PERMISSION_DENIED unless `email_verified` is `true` (or missing, where the provider is trusted to omit it). */
function checkVerified(row: IdentityProviderRow, claims: IdentityClaims, email: string): void {
  const shown = JSON.stringify(email);
  const verified = claims.email_verified;
  if (verified === true || (verified === undefined && row.trust_email_without_verified_claim === 1)) return;
  if (verified === undefined) {
    throw permissionDenied(
      `the identity provider did not say whether it verified the email ${shown} (no "email_verified" claim); an admin may set trustEmailWithoutVerifiedClaim on identity provider "${row.id}" if it never sends one`,
    );
  }
  throw permissionDenied(`the identity provider has not verified the email ${shown}`);
}

const outsideTenant = (row: IdentityProviderRow, email: string): ApiError =>
  permissionDenied(
    `"${email}" is not a user of account "${row.account_id}" who may sign in through identity provider "${row.id}" (the email's domain is not one of its tenant domains); ask an admin`,
  );

async function tenantAllows(db: Db, row: IdentityProviderRow, email: string): Promise<boolean> {
  const account = await getAccount(db, row.account_id);
  return account !== undefined && domainAllowed(email, JSON.parse(row.tenant_domains) as string[], account.email);
}

/**
 * An ID token issued when or before an admin revoked the user's sessions (`:revokeSessions`) no
 * longer signs it in: `iat` is in seconds, so one issued in the same second is refused too.
 * @throws UNAUTHENTICATED saying so.
 */
function checkNotRevoked(user: UserRow, iat: number): void {
  const revoked = user.sessions_revoke_time ?? 0;
  if (iat * 1000 <= revoked) {
    throw unauthenticated(`an admin revoked the sign-ins of "${user.email}" after this ID token was issued; sign in again ('firectl signin' or the console)`);
  }
}

/** Binds `user` to the token's `(iss, sub)` at this provider and audits it, in `trx`. */
async function bind(db: Db, row: IdentityProviderRow, user: UserRow, iss: string, sub: string, meta: RequestMeta): Promise<void> {
  const holder = await bindingOfSubject(db, row.account_id, row.id, sub);
  if (holder && holder.user_id !== user.id) {
    throw permissionDenied(`this identity of identity provider "${row.id}" is already bound to another user of account "${row.account_id}"; ask an admin`);
  }
  await insertBinding(db, { account_id: row.account_id, user_id: user.id, identity_provider_id: row.id, issuer: iss, subject: sub, create_time: Date.now() });
  const actor = { accountId: row.account_id, email: user.email, principalUid: user.uid, apiKeyId: "", meta };
  const payload = { identityProvider: row.id, issuer: iss, subject: sub };
  await writeAudit(db, actor, { method: "BindIdentity", resource: userName(row.account_id, user.id), isAdminAction: false, payload });
}

const boundElsewhere = (row: IdentityProviderRow, user: UserRow): ApiError =>
  permissionDenied(
    `"${user.email}" is bound to another subject of identity provider "${row.id}"; if the provider re-issued its subjects, an admin can remove the binding (POST /v1/${userName(row.account_id, user.id)}:unbindIdentity)`,
  );

/** An existing human: already bound to exactly this subject, or bound now when the tenant allows it. */
async function matchExisting(deps: SignInDeps, row: IdentityProviderRow, user: UserRow, iss: string, sub: string, meta: RequestMeta): Promise<UserRow> {
  const db = deps.store.db;
  const binding = await getBinding(db, row.account_id, user.id, row.id);
  if (binding) {
    if (binding.issuer !== iss || binding.subject !== sub) throw boundElsewhere(row, user);
    return user;
  }
  if (!(await tenantAllows(db, row, user.email))) throw outsideTenant(row, user.email);
  try {
    await db.transaction().execute((trx) => bind(trx, row, user, iss, sub, meta));
  } catch (error) {
    // Two first sign-ins racing: the one that lost finds the binding the other made.
    if (!(error instanceof ApiError && error.status === "ALREADY_EXISTS")) throw error;
    const raced = await getBinding(db, row.account_id, user.id, row.id);
    if (!raced || raced.issuer !== iss || raced.subject !== sub) throw boundElsewhere(row, user);
  }
  return user;
}

/** Creates (and binds) a user on first sign-in, when the provider allows it for the email's domain. */
async function provisionUser(deps: SignInDeps, row: IdentityProviderRow, email: string, iss: string, sub: string, meta: RequestMeta): Promise<UserRow> {
  const db = deps.store.db;
  if (!(await tenantAllows(db, row, email))) throw outsideTenant(row, email);
  if (!row.enable_jit) throw permissionDenied(`"${email}" is not a user of account "${row.account_id}"; ask an admin to add you`);
  const now = Date.now();
  let id = idFromEmail(email);
  if (await getUser(db, row.account_id, id)) id = `${id.slice(0, 56)}-${now.toString(36).slice(-6)}`;
  const fields: Omit<UserRow, "uid" | "permission_preset"> = {
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
    return await db.transaction().execute(async (trx) => {
      // Counted against the account's "users" quota, as a user an admin creates is.
      await reserve({ store: deps.store, clock: deps.clock ?? systemClock }, trx, row.account_id, "users", 1);
      const user = await insertUser(trx, fields);
      const actor = { accountId: row.account_id, email, principalUid: user.uid, apiKeyId: "", meta };
      const payload = { email, role: user.role, jitUserProvisioning: true, identityProvider: row.id };
      await writeAudit(trx, actor, { method: "CreateUser", resource: userName(row.account_id, id), isAdminAction: true, payload });
      await enqueueWebhookEvent(trx, row.account_id, "principal.created", principalData(user));
      await bind(trx, row, user, iss, sub, meta);
      return user;
    });
  } catch (error) {
    // Two first sign-ins racing (two tabs): the one that lost finds the user the other created. With
    // the last unit of the "users" quota, the loser waited on the account lock and then counted the
    // winner's user, so its refusal is the quota's: the newcomer exists now and signs in as it.
    const raced = error instanceof ApiError && (error.status === "ALREADY_EXISTS" || error.status === "RESOURCE_EXHAUSTED");
    const created = raced ? await getUserByEmail(db, row.account_id, email) : undefined;
    if (!created || created.service_account === 1) throw error;
    return matchExisting(deps, row, created, iss, sub, meta);
  }
}

/**
 * Turns claims the caller verified into the human they name in `row`'s account (see the module
 * comment for every rule). `via` is recorded with refusals.
 * @returns the user row (provisioned and bound on a first sign-in where allowed).
 * @throws SignInRefusal (PERMISSION_DENIED / UNAUTHENTICATED with a sentence), its entry written.
 */
export async function userForClaims(deps: SignInDeps, row: IdentityProviderRow, claims: IdentityClaims, via: SignInVia, meta: RequestMeta): Promise<UserRow> {
  let email: string | undefined;
  let userId: string | undefined;
  try {
    if (row.state !== "READY") throw providerDisabled(row);
    checkTokenClaims(claims, row.client_id, deps.config.oidcMaxTokenLifetimeS);
    if (typeof claims.iss !== "string" || typeof claims.sub !== "string" || claims.sub === "")
      throw unauthenticated(`the OIDC token has no "iss" or "sub" claim`);
    email = assertedEmail(claims);
    checkVerified(row, claims, email);
    const existing = await getUserByEmail(deps.store.db, row.account_id, email);
    userId = existing?.id;
    if (existing?.service_account === 1) throw await refuseServiceAccount(deps, existing, via, meta);
    if (existing) {
      checkNotRevoked(existing, claims.iat as number);
      return await matchExisting(deps, row, existing, claims.iss, claims.sub, meta);
    }
    return await provisionUser(deps, row, email, claims.iss, claims.sub, meta);
  } catch (error) {
    if (!(error instanceof ApiError) || error instanceof SignInRefusal) throw error;
    const resource = email === undefined ? collectionName(row.account_id, "users") : userName(row.account_id, userId ?? idFromEmail(email));
    const payload = { via, identityProvider: row.id, ...(email === undefined ? { email: typeof claims.email === "string" ? claims.email : null } : {}) };
    const actor = { accountId: row.account_id, email: email ?? "", apiKeyId: "", meta };
    const refusal = new SignInRefusal(error);
    await writeAudit(deps.store.db, actor, { method: "SignIn", resource, isAdminAction: false, payload }, refusal);
    await enqueueSignInRefused(
      deps.store.db,
      row.account_id,
      { principal: email === undefined ? null : resource, email: email ?? null, ...payload },
      refusal,
      meta,
    );
    throw refusal;
  }
}
