/**
 * @module An account's key policy (issue 18, after GCP's `iam.serviceAccountKeyExpiryHours` and
 * Stripe's key expiry): the longest lifetime of a new API key, the lifetime a key gets when its
 * creator names none, and whether a human user's key must expire. Admin-set and audited; every
 * create and rotation is checked against it (`keyExpiry`).
 */
import { invalidArgument } from "../domain/errors.ts";
import { keyPolicyName } from "../domain/resource-names.ts";
import { formatDuration, formatTimestamp, writableTimestamp } from "../domain/time.ts";
import { lockAccount } from "../store/accounts.ts";
import type { KeyPolicy } from "../http/resources/key-policy.ts";
import { getKeyPolicy as readKeyPolicy, putKeyPolicy } from "../store/key-policies.ts";
import type { KeyPolicyRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";

/** A change to the policy: lifetimes in milliseconds, `null` removes one; an absent field is kept. */
export interface KeyPolicyPatch {
  maxKeyLifetime?: number | null | undefined;
  defaultKeyLifetime?: number | null | undefined;
  requireExpiryForHumanKeys?: boolean | undefined;
}

const noPolicy = (accountId: string): KeyPolicyRow => ({
  account_id: accountId,
  max_key_lifetime: null,
  default_key_lifetime: null,
  require_expiry_for_human_keys: 0,
  update_time: 0,
});

function keyPolicyView(row: KeyPolicyRow): KeyPolicy {
  const view: KeyPolicy = { name: keyPolicyName(row.account_id), requireExpiryForHumanKeys: row.require_expiry_for_human_keys === 1 };
  if (row.max_key_lifetime !== null) view.maxKeyLifetime = formatDuration(row.max_key_lifetime);
  if (row.default_key_lifetime !== null) view.defaultKeyLifetime = formatDuration(row.default_key_lifetime);
  if (row.update_time > 0) view.updateTime = formatTimestamp(row.update_time);
  return view;
}

/** GetKeyPolicy: the account's policy (every role may read it: it governs the keys they create). */
export async function getKeyPolicy(deps: Deps, ctx: Ctx, accountId: string): Promise<KeyPolicy> {
  return auditRefusals(ctx, { method: "GetKeyPolicy", resource: keyPolicyName(accountId) }, async () => {
    authorize(ctx, "keyPolicy.get");
    return keyPolicyView((await readKeyPolicy(deps.store.db, accountId)) ?? noPolicy(accountId));
  });
}

/**
 * UpdateKeyPolicy (admin, audited): changes the fields present in `patch`. Keys that exist keep
 * their expiry; the policy applies to keys created or rotated from then on.
 * @throws INVALID_ARGUMENT when a lifetime is 0s, or `defaultKeyLifetime` exceeds `maxKeyLifetime`.
 */
export async function updateKeyPolicy(deps: Deps, ctx: Ctx, accountId: string, patch: KeyPolicyPatch): Promise<KeyPolicy> {
  const payload = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, typeof v === "number" ? formatDuration(v) : v]));
  return audited(deps, ctx, { method: "UpdateKeyPolicy", resource: keyPolicyName(accountId), payload }, async (trx) => {
    authorize(ctx, "keyPolicy.update");
    // The whole row is written back: edits of different fields must not overwrite each other
    // (PostgreSQL runs transactions side by side), and a create reading the policy waits too.
    await lockAccount(deps.store, trx, accountId);
    const row = { ...((await readKeyPolicy(trx, accountId)) ?? noPolicy(accountId)) };
    for (const field of ["maxKeyLifetime", "defaultKeyLifetime"] as const) {
      if (patch[field] === 0) throw invalidArgument(`${field} must be longer than 0s; to remove the limit, name it in updateMask without a value`);
    }
    if (patch.maxKeyLifetime !== undefined) row.max_key_lifetime = patch.maxKeyLifetime;
    if (patch.defaultKeyLifetime !== undefined) row.default_key_lifetime = patch.defaultKeyLifetime;
    if (patch.requireExpiryForHumanKeys !== undefined) row.require_expiry_for_human_keys = patch.requireExpiryForHumanKeys ? 1 : 0;
    if (row.max_key_lifetime !== null && row.default_key_lifetime !== null && row.default_key_lifetime > row.max_key_lifetime) {
      throw invalidArgument(
        `defaultKeyLifetime ${formatDuration(row.default_key_lifetime)} exceeds maxKeyLifetime ${formatDuration(row.max_key_lifetime)}; a default must be allowed by the maximum`,
      );
    }
    row.update_time = deps.clock.now();
    await putKeyPolicy(trx, row);
    return keyPolicyView(row);
  });
}

/**
 * The expiry (epoch milliseconds, null: never) a new key of the account gets under its key policy:
 * `requested` if given, else now + `defaultKeyLifetime` if the policy has one, else none. Read in
 * the caller's transaction (a create or a rotation), so a policy change commits before or after it.
 * @param now epoch milliseconds (`deps.clock.now()`).
 * @param humanOwner whether the key's owner is a human user (`requireExpiryForHumanKeys`).
 * @throws INVALID_ARGUMENT naming the rule broken: `maxKeyLifetime` (no expiry, or one too far out)
 *   or `requireExpiryForHumanKeys`.
 */
export async function keyExpiry(db: Db, accountId: string, now: number, humanOwner: boolean, requested: number | undefined): Promise<number | null> {
  const policy = (await readKeyPolicy(db, accountId)) ?? noPolicy(accountId);
  const expire =
    requested ?? (policy.default_key_lifetime === null ? null : writableTimestamp(now + policy.default_key_lifetime, "the key policy's default expiry"));
  const max = policy.max_key_lifetime;
  if (expire === null && max !== null) {
    throw invalidArgument(
      `the account's key policy (maxKeyLifetime ${formatDuration(max)}) requires an expireTime no later than ${formatTimestamp(now + max)}`,
    );
  }
  if (expire === null && humanOwner && policy.require_expiry_for_human_keys === 1) {
    throw invalidArgument("the account's key policy (requireExpiryForHumanKeys) requires an expireTime for a human user's key");
  }
  if (expire !== null && max !== null && expire - now > max) {
    throw invalidArgument(
      `expireTime ${formatTimestamp(expire)} breaks the account's key policy (maxKeyLifetime ${formatDuration(max)}): use an expireTime no later than ${formatTimestamp(now + max)}`,
    );
  }
  return expire;
}
