import type { MeteredCall } from "../domain/spend-ledger.ts";
import type { UsageDailyRow } from "../store/platform-rows.ts";
import type { Db, Store } from "../store/store.ts";
import { addUsage } from "../store/usage.ts";

/**
 * A batch of metered calls as `usage_daily` rows: calls of one (account, day, model, principal,
 * key) summed into one row, the rows in a fixed order, so that processes writing the same rows
 * take their locks in the same order.
 */
function usageRows(calls: MeteredCall[]): UsageDailyRow[] {
  const rows = new Map<string, UsageDailyRow>();
  for (const c of calls) {
    const key = JSON.stringify([c.accountId, c.day, c.model, c.principal, c.apiKeyId]);
    const row = rows.get(key);
    if (row) {
      row.requests += 1;
      row.prompt_tokens += c.promptTokens;
      row.completion_tokens += c.completionTokens;
      row.spend_nano += c.costNano;
    } else {
      rows.set(key, {
        account_id: c.accountId,
        day: c.day,
        model: c.model,
        principal: c.principal,
        api_key_id: c.apiKeyId,
        limits_key_id: c.limitsKeyId,
        requests: 1,
        prompt_tokens: c.promptTokens,
        completion_tokens: c.completionTokens,
        spend_nano: c.costNano,
      });
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
}

/** Adds a batch of metered calls to `usage_daily` in `trx` (one upsert per row of `usageRows`). */
async function addMeteredUsage(trx: Db, calls: MeteredCall[]): Promise<void> {
  for (const row of usageRows(calls)) await addUsage(trx, row);
}

/** Writes a batch of metered calls in one transaction of its own (group commit), with `also` in it. */
export async function writeMeteredUsage(store: Store, calls: MeteredCall[], also?: (trx: Db) => Promise<void>): Promise<void> {
  if (calls.length === 0) return;
  await store.db.transaction().execute(async (trx) => {
    await addMeteredUsage(trx, calls);
    await also?.(trx);
  });
}
