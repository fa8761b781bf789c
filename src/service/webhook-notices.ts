/**
 * @module Events found by scanning rather than by a change: `api_key.expiring` 7 days and 1 day
 * before a key's expireTime and `api_key.expired` after it, each sent once per key; `quota.threshold`
 * for the month's spend (quota-thresholds.ts). Every
 * process scans (from the delivery worker's loop, by `deps.clock`); the notice is recorded in the
 * transaction that writes the event, on a primary key, so in a cluster exactly one process writes it.
 */
import { apiKeyName, userName } from "../domain/resource-names.ts";
import { formatTimestamp } from "../domain/time.ts";
import { accountsSubscribedTo, claimNotice, keysDueNotice } from "../store/webhook-outbox.ts";
import { noteQuotaUse } from "./quota-thresholds.ts";
import { readQuotaUse } from "./quotas.ts";
import type { Deps } from "./context.ts";
import { enqueueWebhookEvent } from "./webhook-events.ts";

const DAY = 24 * 3600 * 1000;
/** Keys handled per notice and scan; the next scan takes the rest. */
const SCAN_LIMIT = 500;

/** The notices, by how far before (or after) expireTime they fall due: a key expiring within (after, before] of now gets `notice`. */
const NOTICES = [
  { notice: "api_key.expiring:7d", after: DAY, before: 7 * DAY, expiring: true },
  { notice: "api_key.expiring:1d", after: 0, before: DAY, expiring: true },
  // An expired key is noticed within a week of its expiry (a key expired long before this feature is not announced now).
  { notice: "api_key.expired", after: -7 * DAY, before: 0, expiring: false },
] as const;

/**
 * Writes the due key-expiry events at `now` (epoch milliseconds, `deps.clock`): `api_key.expiring`
 * when a key's expireTime is within 7 days (but more than 1) and again within 1 day, with
 * `data.daysLeft` the whole days it has left, rounded up (7 for 6 days and an hour, 1 for an hour; a
 * key made with 2 days to live gets 2), and `api_key.expired` once it passed. Data: `apiKey`, `principal` (resource names), `displayName`, `expireTime`.
 */
export async function scanKeyExpiry(deps: Deps, now: number): Promise<void> {
  for (const n of NOTICES) {
    const keys = await keysDueNotice(deps.store.db, n.notice, now + n.after, now + n.before, SCAN_LIMIT);
    for (const key of keys) {
      await deps.store.db.transaction().execute(async (trx) => {
        if (!(await claimNotice(trx, key.id, n.notice, now))) return;
        const data = {
          apiKey: apiKeyName(key.account_id, key.user_id, key.id),
          principal: userName(key.account_id, key.user_id),
          displayName: key.display_name,
          expireTime: formatTimestamp(key.expire_time!),
          ...(n.expiring ? { daysLeft: Math.max(1, Math.ceil((key.expire_time! - now) / DAY)) } : {}),
        };
        await enqueueWebhookEvent(trx, key.account_id, n.expiring ? "api_key.expiring" : "api_key.expired", data, now);
      });
    }
  }
}

/**
 * Writes `quota.threshold` for `monthly-spend-usd` of every account with a webhook subscribed to it
 * whose spend this month reached 80 % or 100 % of the quota (once per month and threshold).
 */
export async function scanMonthlySpend(deps: Deps): Promise<void> {
  for (const accountId of await accountsSubscribedTo(deps.store.db, "quota.threshold")) {
    const use = await readQuotaUse(deps, deps.store.db, accountId, "monthly-spend-usd");
    await noteQuotaUse(deps, deps.store.db, accountId, "monthly-spend-usd", 0, use.used, use.value);
  }
}
