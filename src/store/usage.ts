import { sql } from "kysely";
import type { UsageDailyRow } from "./platform-rows.ts";
import type { Db } from "./store.ts";

/**
 * The usage meter: one row per (account, UTC day, model, principal, key), upserted per request, so
 * a month of spend or a usage report reads a few hundred rows however many requests there were.
 */
export async function addUsage(db: Db, row: UsageDailyRow): Promise<void> {
  await db
    .insertInto("usage_daily")
    .values(row)
    .onConflict((oc) =>
      oc.columns(["account_id", "day", "model", "principal", "api_key_id"]).doUpdateSet({
        requests: sql`usage_daily.requests + excluded.requests`,
        prompt_tokens: sql`usage_daily.prompt_tokens + excluded.prompt_tokens`,
        completion_tokens: sql`usage_daily.completion_tokens + excluded.completion_tokens`,
        spend_nano: sql`usage_daily.spend_nano + excluded.spend_nano`,
      }),
    )
    .execute();
}

/** Spend of the account on days >= `fromDay` (e.g. the first of the month), nano-dollars. */
export async function spendSince(db: Db, accountId: string, fromDay: string): Promise<number> {
  const r = await db
    .selectFrom("usage_daily")
    .select((eb) => eb.fn.sum<number | string | null>("spend_nano").as("s"))
    .where("account_id", "=", accountId)
    .where("day", ">=", fromDay)
    .executeTakeFirstOrThrow();
  return Number(r.s ?? 0);
}

/** One model, principal and key's totals over a range of days. */
export type UsageGroup = Omit<UsageDailyRow, "account_id" | "day">;

/** Usage on days in [fromDay, toDay], grouped by model, principal and key. */
export async function usageByGroup(db: Db, accountId: string, fromDay: string, toDay: string): Promise<UsageGroup[]> {
  const rows = await db
    .selectFrom("usage_daily")
    .select((eb) => [
      "model",
      "principal",
      "api_key_id",
      eb.fn.sum<number | string>("requests").as("requests"),
      eb.fn.sum<number | string>("prompt_tokens").as("prompt_tokens"),
      eb.fn.sum<number | string>("completion_tokens").as("completion_tokens"),
      eb.fn.sum<number | string>("spend_nano").as("spend_nano"),
    ])
    .where("account_id", "=", accountId)
    .where("day", ">=", fromDay)
    .where("day", "<=", toDay)
    .groupBy(["model", "principal", "api_key_id"])
    .orderBy("model")
    .orderBy("principal")
    .orderBy("api_key_id")
    .execute();
  return rows.map((r) => ({
    model: r.model,
    principal: r.principal,
    api_key_id: r.api_key_id,
    requests: Number(r.requests),
    prompt_tokens: Number(r.prompt_tokens),
    completion_tokens: Number(r.completion_tokens),
    spend_nano: Number(r.spend_nano),
  }));
}
