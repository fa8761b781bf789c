/**
 * @module An API key's lifecycle after creation (issue 18): disable with a reason and enable
 * (GCP API Keys' key state), and rotation with a grace period (Stripe's "roll key"). Every change is
 * audited in its own transaction, queues its webhook event there, and invalidates the key's cache
 * entry on every process after the commit, as deletion does.
 */
import { failedPrecondition, invalidArgument, notFound, permissionDenied } from "../domain/errors.ts";
import { generateKey, newKeyId, rawDigestOf } from "../domain/api-key-format.ts";
import { apiKeyName } from "../domain/resource-names.ts";
import { formatDuration, formatTimestamp, writableTimestamp } from "../domain/time.ts";
import { lockAccount } from "../store/accounts.ts";
import { countActingAdmins } from "../store/users.ts";
import * as keys from "../store/api-keys.ts";
import type { ApiKeyRow, UserRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { keepAnActingAdminKey } from "./acting-admins.ts";
import { audited } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { keyExpiry } from "./key-policy.ts";
import { requireMayActAs, requireMayChangeKeysOf } from "./permission-presets.ts";
import { authorize } from "./permissions.ts";
import { reserve } from "./quotas.ts";
import { getUserRow } from "./users.ts";
import { requireKeyWithinActingKey, withinActingKeyExpiry } from "./api-key-restrictions.ts";
import { apiKeyView, type ApiKey } from "./views.ts";
import { enqueueWebhookEvent } from "./webhook-events.ts";
import type { DisableReason } from "../domain/api-key-state.ts";

export type { DisableReason };

/** Reasons that say the secret may be in other hands: the keys made through it may be too, and are disabled with it. */
const SPREADING: ReadonlySet<DisableReason> = new Set(["EXPOSED", "COMPROMISED"]);

/**
 * Disables `row` in `trx` with `reason`: the key authenticates nothing from the commit on and no
 * longer counts toward "api-keys-per-user". With `EXPOSED` or `COMPROMISED`, whoever holds the
 * secret may have made keys through it, so every enabled key made through it (and through those,
 * at any depth; `parent_key_id`) is disabled too, with the same reason — not the key that replaced
 * it by rotation. Returns those other keys. Neither audits nor queues a webhook event nor
 * invalidates: the caller does those in the same transaction (`announceDisabled` for the others)
 * and, after the commit, invalidates every disabled key (`deps.cluster.invalidator.key`) so every
 * process refuses it on its next request.
 */
export async function disableApiKeyRow(trx: Db, row: ApiKeyRow, reason: DisableReason): Promise<ApiKeyRow[]> {
  await keys.setApiKeyState(trx, row.id, "DISABLED", reason);
  return SPREADING.has(reason) ? disableMadeThrough(trx, row.id, reason) : [];
}

/**
 * Disables with `reason` (EXPOSED or COMPROMISED) every key made through key `parentId` (and through
 * those, at any depth; `parent_key_id`), through deleted keys as well (their tombstones keep the
 * link); `parentId` may itself be deleted (a tombstone's id). A key already disabled for another
 * reason (UNUSED, OTHER) takes `reason` too, so that its owner can no longer enable it. Returns them.
 */
export async function disableMadeThrough(trx: Db, parentId: string, reason: DisableReason): Promise<ApiKeyRow[]> {
  const alsoDisabled: ApiKeyRow[] = [];
  for (let parents = [parentId]; parents.length > 0;) {
    const made = await keys.keysMadeThrough(trx, parents);
    for (const key of made) {
      // One already disabled for a reason its owner may undo (UNUSED, OTHER) takes this one, which only an admin may.
      if (key.state === "DISABLED" && SPREADING.has(key.disable_reason as DisableReason)) continue;
      await keys.setApiKeyState(trx, key.id, "DISABLED", reason);
      alsoDisabled.push(key);
    }
    // Through deleted keys too: deleting a key in the middle of a chain does not cut what is below it.
    parents = [...made.map((k) => k.id), ...(await keys.tombstonesMadeThrough(trx, parents))];
  }
  return alsoDisabled;
}

/** Queues `api_key.disabled` in `trx` for each of `rows` (disabled with `reason` by `disableApiKeyRow`); their resource names. */
export async function announceDisabled(trx: Db, rows: readonly ApiKeyRow[], reason: DisableReason, now: number): Promise<string[]> {
  const names: string[] = [];
  for (const r of rows) {
    const name = apiKeyName(r.account_id, r.user_id, r.id);
    await enqueueWebhookEvent(trx, r.account_id, "api_key.disabled", { apiKey: name, disableReason: reason }, now);
    names.push(name);
  }
  return names;
}

/** The key and its owner, read after the account lock (a concurrent deletion of either is then a 404). */
async function lockedKey(deps: Deps, trx: Db, accountId: string, userId: string, keyId: string): Promise<{ row: ApiKeyRow; owner: UserRow }> {
  await lockAccount(deps.store, trx, accountId);
  const owner = await getUserRow(trx, accountId, userId);
  const row = await keys.getApiKey(trx, accountId, userId, keyId);
  if (!row) throw notFound(`API key "${keyId}" not found`);
  return { row, owner };
}

/**
 * DisableApiKey: the key is refused on its next request on every process, with a sentence naming
 * `reason`, until enabled. Its own key needs `apiKeys.disable`, another principal's
 * `apiKeys.disableOthers`. Disabling a disabled key changes its reason; from EXPOSED or COMPROMISED to
 * another, only with `apiKeys.disableOthers` (as enabling it). Queues `api_key.disabled`.
 * With `EXPOSED` or `COMPROMISED` the keys made through it go too (`disableApiKeyRow`): each gets
 * its `api_key.disabled`, and the entry's payload names them (`alsoDisabled`). Those two reasons
 * need only `apiKeys.disableOthers` on another's key, whatever its owner's role (incident response);
 * `UNUSED` and `OTHER` on the key of a principal holding more actions are refused (`requireMayChangeKeysOf`).
 * @throws NOT_FOUND (user, key); FAILED_PRECONDITION when it is the last live key of the account's last acting admin.
 */
export async function disableApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string, reason: DisableReason): Promise<ApiKey> {
  const op: { method: string; resource: string; payload: Record<string, unknown> } = {
    method: "DisableApiKey",
    resource: apiKeyName(accountId, userId, keyId),
    payload: { disableReason: reason },
  };
  const disabled: string[] = [];
  const view = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.disable" : "apiKeys.disableOthers");
    const { row, owner } = await lockedKey(deps, trx, accountId, userId, keyId);
    // Containment (EXPOSED, COMPROMISED) is anyone's who holds the action, whoever owns the key, as a
    // leak report's is: it only takes power away, and only an admin undoes it. Another reason is
    // acting on the principal, judged by rank as signing it out is.
    if (!SPREADING.has(reason)) await requireMayChangeKeysOf(trx, ctx, owner, "disable");
    // Only an admin enables a key disabled as EXPOSED or COMPROMISED: nor may anyone else first
    // change that reason to one its owner can undo.
    if (row.state === "DISABLED" && SPREADING.has(row.disable_reason as DisableReason) && !SPREADING.has(reason))
      authorize(ctx, "apiKeys.disableOthers", `change the reason of a key disabled as ${row.disable_reason} to ${reason}`);
    const now = deps.clock.now();
    await keepAnActingAdminKey(trx, owner, keyId, now);
    const couldAct = await countActingAdmins(trx, accountId, now);
    const others = await disableApiKeyRow(trx, row, reason);
    // The keys made through it go too: not when that leaves no admin who can act (rolled back).
    if (others.length > 0 && couldAct > 0 && (await countActingAdmins(trx, accountId, now)) === 0)
      throw failedPrecondition(
        `disabling API key "${keyId}" as ${reason} also disables the keys made through it, among them the last live key of the account's last admin who can act; first make another user an admin who can act (a human, or a service account with an unexpired API key)`,
      );
    await enqueueWebhookEvent(trx, accountId, "api_key.disabled", { apiKey: op.resource, disableReason: reason }, deps.clock.now());
    if (others.length > 0) op.payload = { ...op.payload, alsoDisabled: await announceDisabled(trx, others, reason, deps.clock.now()) };
    disabled.push(...others.map((k) => k.id));
    return apiKeyView({ ...row, state: "DISABLED", disable_reason: reason }, owner.email, deps.lastUsed.peek(keyId));
  });
  for (const id of [keyId, ...disabled]) await deps.cluster.invalidator.key(id);
  return view;
}

/**
 * EnableApiKey: a disabled key authenticates again. An unexpired key counts toward
 * "api-keys-per-user" again, so enabling is refused at that limit. Enabling an enabled key is a no-op.
 * A key disabled as `EXPOSED` or `COMPROMISED` is enabled only with `apiKeys.disableOthers` (an admin),
 * whoever owns it. Through a restricted key, only a key within it is enabled: scopes it holds, no
 * wider networks, models or limits, and counters it shares (as for rotating through it).
 * @throws NOT_FOUND (user, key); PERMISSION_DENIED; RESOURCE_EXHAUSTED (429) at "api-keys-per-user".
 */
export async function enableApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string): Promise<ApiKey> {
  const op = { method: "EnableApiKey", resource: apiKeyName(accountId, userId, keyId) };
  const view = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.disable" : "apiKeys.disableOthers");
    const { row, owner } = await lockedKey(deps, trx, accountId, userId, keyId);
    await requireMayChangeKeysOf(trx, ctx, owner, "enable");
    // A secret that may be in other hands is trusted again only by an admin: otherwise whoever
    // holds it (or a key made through it) could undo the leak response.
    if (row.state === "DISABLED" && SPREADING.has(row.disable_reason as DisableReason))
      authorize(ctx, "apiKeys.disableOthers", `enable a key disabled as ${row.disable_reason}`);
    if (row.state === "DISABLED" && ctx.principal.restrictions !== undefined) {
      // A restricted key never brings back a secret wider than itself, as it never makes or rotates
      // to one: whoever holds that secret (the caller, perhaps) would shed the acting key's limits.
      await requireKeyWithinActingKey(trx, ctx, owner, row, "enable");
    }
    if (row.state === "DISABLED") {
      const live = row.expire_time === null || row.expire_time > deps.clock.now();
      if (live) await reserve(deps, trx, accountId, "api-keys-per-user", 1, userId);
      await keys.setApiKeyState(trx, keyId, "ENABLED", "");
    }
    return apiKeyView({ ...row, state: "ENABLED", disable_reason: "" }, owner.email, deps.lastUsed.peek(keyId));
  });
  await deps.cluster.invalidator.key(keyId);
  return view;
}

export interface RotateApiKeyInput {
  /** How long the old key keeps working, in milliseconds (0: revoked at once). */
  gracePeriod: number;
  /** The successor's expiry, epoch milliseconds; default: the old key's lifetime from now, else the key policy's default. */
  expireTime?: number | undefined;
}

/**
 * RotateApiKey (Stripe's "roll key"): creates a successor with the old key's owner, display name,
 * annotations and restrictions, whose secret is in this response only, and sets the old key's
 * `expireTime` to now + `gracePeriod` (never later than it already was). The successor takes the old
 * key's place under "api-keys-per-user" (no room is needed; the old key counts until it expires),
 * except that while another of the principal's keys is in its grace period, a rotation that leaves
 * the old key working needs room; so does rotating a disabled key, as creating does. A key is rotated once: its successor is
 * rotated next. The successor's expiry must keep to the account's key policy. Its own key needs
 * `apiKeys.rotate`; a service account's `apiKeys.rotateForServiceAccount` (and its role, as for
 * creating one); nobody rotates another human's key. Through a restricted key, the old key's
 * restrictions must lie within the caller's key's (`requireWithinActingKey`). Queues `api_key.rotated`.
 * @throws NOT_FOUND (user, key); PERMISSION_DENIED; FAILED_PRECONDITION (expired, already rotated);
 *   INVALID_ARGUMENT (key policy, expireTime in the past); RESOURCE_EXHAUSTED (a disabled key at the limit).
 */
export async function rotateApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string, input: RotateApiKeyInput): Promise<ApiKey> {
  const self = userId === ctx.principal.userId;
  const payload: Record<string, unknown> = {
    gracePeriod: formatDuration(input.gracePeriod),
    ...(input.expireTime === undefined ? {} : { expireTime: formatTimestamp(input.expireTime) }),
  };
  const op = { method: "RotateApiKey", resource: apiKeyName(accountId, userId, keyId), payload };
  const made = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, self ? "apiKeys.rotate" : "apiKeys.rotateForServiceAccount");
    const { row, owner } = await lockedKey(deps, trx, accountId, userId, keyId);
    await requireMayChangeKeysOf(trx, ctx, owner, "rotate");
    if (!self && owner.service_account !== 1) throw permissionDenied("API keys of a human user can only be rotated by that user");
    // The successor is a new secret with the old key's scopes and restrictions: granted as a create
    // grants them; a restricted key never rotates to a secret wider than itself.
    await requireKeyWithinActingKey(trx, ctx, owner, row, "rotate");
    if (!self && row.scopes === null) await requireMayActAs(trx, ctx, owner);
    const now = deps.clock.now();
    if (row.expire_time !== null && row.expire_time <= now) throw failedPrecondition(`API key "${keyId}" has expired; create a new key instead`);
    if (row.successor_key_id !== "") {
      throw failedPrecondition(`API key "${keyId}" was already rotated to "${row.successor_key_id}"; rotate that key instead`);
    }
    if (input.expireTime !== undefined && input.expireTime <= now) throw invalidArgument("expireTime must be in the future");
    const lifetime = row.expire_time === null ? undefined : row.expire_time - row.create_time;
    const expireTime = await withinActingKeyExpiry(
      trx,
      ctx,
      await keyExpiry(trx, accountId, now, owner.service_account !== 1, input.expireTime ?? (lifetime === undefined ? undefined : now + lifetime)),
      input.expireTime !== undefined,
    );
    // The successor takes the old key's place. Left working for a grace period, the old key counts
    // until it ends: one such key at a time may go over the limit, or rotating again and again
    // would mint live keys without end.
    const graceEnd = Math.min(writableTimestamp(now + input.gracePeriod, "the old key's end (now + gracePeriod)"), row.expire_time ?? Infinity);
    if (row.state === "DISABLED" || (graceEnd > now && (await keys.hasKeyInGrace(trx, accountId, userId, now))))
      await reserve(deps, trx, accountId, "api-keys-per-user", 1, userId);
    const material = generateKey(deps.config.keyPrefix);
    // The old key's owner, name, annotations and every restriction column; a new identity, secret, life and use.
    const restrictions = Object.fromEntries(Object.keys(keys.NO_RESTRICTIONS).map((c) => [c, row[c as keyof typeof keys.NO_RESTRICTIONS]]));
    const successor: ApiKeyRow = {
      id: newKeyId(),
      account_id: row.account_id,
      user_id: row.user_id,
      display_name: row.display_name,
      digest: material.digest,
      prefix: material.displayPrefix,
      create_time: now,
      expire_time: expireTime,
      last_used: null,
      annotations: row.annotations,
      state: "ENABLED",
      disable_reason: "",
      last_used_ip: "",
      last_used_user_agent: "",
      successor_key_id: "",
      // Its own rpm, tpm and monthly spend go on being counted with the old key's: a rotation is not a fresh budget.
      limits_key_id: row.limits_key_id || row.id,
      // Made through the key that made this request, as a created key is: when that is the old key
      // itself (or a sibling), whoever holds it made the successor, and a leak report of it takes the
      // successor along. Rotated in a session, it takes the old key's place: made through the same
      // key (an old key reported leaked after an admin rotated it does not take its replacement along).
      parent_key_id: ctx.principal.apiKeyId || row.parent_key_id,
      ...(restrictions as typeof keys.NO_RESTRICTIONS),
    };
    await keys.insertApiKey(trx, successor);
    await keys.markRotated(trx, keyId, successor.id, graceEnd);
    const successorName = apiKeyName(accountId, userId, successor.id);
    op.payload = { ...payload, successor: successorName };
    await enqueueWebhookEvent(trx, accountId, "api_key.rotated", { apiKey: op.resource, successor: successorName, expireTime: formatTimestamp(graceEnd) }, now);
    deps.keyCache.forgetMissing(rawDigestOf(material.digest));
    return { ...apiKeyView(successor, owner.email), key: material.key };
  });
  await deps.cluster.invalidator.key(keyId);
  return made;
}
