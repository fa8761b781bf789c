/**
 * @module The `quota.threshold` webhook event: a quota's usage reaching 80 % and 100 % of its value.
 * Item quotas (users, service accounts, deployments, datasets, storage, keys per user, webhooks,
 * audit sinks, models, identity providers, permission presets) are checked as a reservation takes units
 * (`reserve`, in its transaction);
 * `serverless-inference-rpm` as inference admission counts a request; `monthly-spend-usd` by the
 * delivery worker's periodic scan (the month's metered spend). A threshold is noticed when usage
 * crosses it, at most once an hour per quota and threshold (a per-minute window crosses it again
 * every minute under steady load); for the monthly spend, once per calendar month.
 */
import { monthStartDay } from "../domain/pricing.ts";
import type { QuotaId } from "../domain/quotas.ts";
import { quotaName } from "../domain/resource-names.ts";
import type { Db } from "../store/store.ts";
import { claimNotice } from "../store/webhook-outbox.ts";
import type { Deps } from "./context.ts";
import { enqueueWebhookEvent } from "./webhook-events.ts";

/** Percent of a quota's value. */
const THRESHOLDS = [80, 100] as const;
const HOUR = 3600 * 1000;

/** When this process (this server: `deps`) last noticed (account, quota, threshold): spares the store a write per inference request. */
const noticed = new WeakMap<object, Map<string, number>>();

/**
 * Whether usage going from `before` to `after` units of `value` crosses a threshold (`before < t %
 * · value ≤ after`): the only case where `noteQuotaUse` has anything to do, so that a hot path can
 * skip the call otherwise.
 */
export function crossesQuotaThreshold(before: number, after: number, value: number): boolean {
  if (value <= 0) return false;
  for (const threshold of THRESHOLDS) if (crosses(threshold, before, after, value)) return true;
  return false;
}

function crosses(threshold: number, before: number, after: number, value: number): boolean {
  const level = (value * threshold) / 100;
  return before < level && level <= after;
}

/**
 * Notes that quota `quotaId` of `accountId` went from `before` to `after` units of `value`: for each
 * threshold crossed (`before < t % · value ≤ after`) writes `quota.threshold` (data: `quota` name,
 * `threshold` percent, `used`, `value`) unless it was sent within the hour (within the month for
 * `monthly-spend-usd`). Runs in `db`, the caller's transaction when there is one.
 */
export async function noteQuotaUse(
  deps: Pick<Deps, "store" | "clock">,
  db: Db,
  accountId: string,
  quotaId: QuotaId,
  before: number,
  after: number,
  value: number,
): Promise<void> {
  if (value <= 0) return;
  const now = deps.clock.now();
  let recent = noticed.get(deps);
  if (!recent) noticed.set(deps, (recent = new Map()));
  for (const threshold of THRESHOLDS) {
    if (!crosses(threshold, before, after, value)) continue;
    const monthly = quotaId === "monthly-spend-usd";
    const notice = monthly ? `quota.threshold:${threshold}:${monthStartDay(now)}` : `quota.threshold:${threshold}`;
    const subject = quotaName(accountId, quotaId);
    const write = async (trx: Db) => {
      if (!(await claimNotice(trx, subject, notice, now, monthly ? undefined : HOUR))) return;
      await enqueueWebhookEvent(trx, accountId, "quota.threshold", { quota: subject, threshold, used: after, value }, now);
    };
    // Inside the caller's transaction (a reservation, which may yet roll back), the store decides alone.
    if (db !== deps.store.db) {
      await write(db);
      continue;
    }
    const seen = `${subject} ${notice}`;
    if (now - (recent.get(seen) ?? Number.NEGATIVE_INFINITY) < HOUR) continue;
    recent.set(seen, now);
    if (recent.size > 10_000) recent.clear();
    await deps.store.db.transaction().execute(write);
  }
}
