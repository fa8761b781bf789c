import { sql, type ExpressionBuilder } from "kysely";
import type { QuotaId } from "../domain/quotas.ts";
import type { UsageDailyRow } from "./platform-rows.ts";
import type { Schema } from "./schema.ts";
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

/** The account's spend on days >= `fromDay` as one SUM (null without rows), for a query or a subquery. */
const spendSum = (from: Pick<ExpressionBuilder<Schema, never>, "selectFrom">, accountId: string, fromDay: string) =>
  from
    .selectFrom("usage_daily")
    .select((eb) => eb.fn.sum<number | string | null>("spend_nano").as("s"))
    .where("account_id", "=", accountId)
    .where("day", ">=", fromDay);

/** Spend of the account on days >= `fromDay` (e.g. the first of the month), nano-dollars. */
export async function spendSince(db: Db, accountId: string, fromDay: string): Promise<number> {
  const r = await spendSum(db, accountId, fromDay).executeTakeFirstOrThrow();
  return Number(r.s ?? 0);
}

/** Every account's spend on days >= `fromDay`, nano-dollars (to rebuild shared spend counters at start). */
export async function spendByAccountSince(db: Db, fromDay: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("usage_daily")
    .select((eb) => ["account_id", eb.fn.sum<number | string>("spend_nano").as("s")])
    .where("day", ">=", fromDay)
    .groupBy("account_id")
    .execute();
  return new Map(rows.map((r) => [r.account_id, Number(r.s)]));
}

/**
 * What admitting an inference request reads, in one round trip (the gateway reads it for every
 * request): the account's `serverless-inference-rpm` and `monthly-spend-usd` quotas (0 when
 * missing) and its spend on days >= `fromDay`, nano-dollars.
 */
export async function inferenceLimits(db: Db, accountId: string, fromDay: string): Promise<{ rpm: number; spendUsd: number; spentNano: number }> {
  const quota = (eb: ExpressionBuilder<Schema, never>, id: QuotaId) =>
    eb.selectFrom("quotas").select("value").where("account_id", "=", accountId).where("id", "=", id);
  const row = await db
    .selectNoFrom((eb) => [
      quota(eb, "serverless-inference-rpm").as("rpm"),
      quota(eb, "monthly-spend-usd").as("spend"),
      spendSum(eb, accountId, fromDay).as("spent"),
    ])
    .executeTakeFirstOrThrow();
  return { rpm: Number(row.rpm ?? 0), spendUsd: Number(row.spend ?? 0), spentNano: Number(row.spent ?? 0) };
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
