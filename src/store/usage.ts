import { sql, type ExpressionBuilder } from "kysely";
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
 * Spend on days >= `fromDay` (the first of a month) of one spend scope, nano-dollars: an account's
 * (`{ accountId }`) or one API key's own count (`{ limitsKeyId }`: what was metered to it, by that
 * key and every key sharing its counters — its successors, the keys made through it — deleted ones
 * included). Read to seed a spend counter that is missing (a scope's first call after start), never
 * per call.
 */
export async function scopeSpendSince(db: Db, of: { accountId: string } | { limitsKeyId: string }, fromDay: string): Promise<number> {
  const q = db
    .selectFrom("usage_daily")
    .select((eb) => eb.fn.sum<number | string | null>("spend_nano").as("s"))
    .where("day", ">=", fromDay);
  const r = await ("accountId" in of ? q.where("account_id", "=", of.accountId) : q.where("limits_key_id", "=", of.limitsKeyId)).executeTakeFirstOrThrow();
  return Number(r.s ?? 0);
}

/** Every API key count's spend on days >= `fromDay` (by `limits_key_id`), nano-dollars, to rebuild per-key spend counters at start. */
export async function spendByKeySince(db: Db, fromDay: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("usage_daily")
    .select((eb) => ["limits_key_id", eb.fn.sum<number | string>("spend_nano").as("s")])
    .where("day", ">=", fromDay)
    .where("limits_key_id", "!=", "")
    .groupBy("limits_key_id")
    .execute();
  return new Map(rows.map((r) => [r.limits_key_id, Number(r.s)]));
}

/** A dimension usage can be grouped by: the columns of `usage_daily` that tell rows apart. */
export type UsageDimension = "day" | "model" | "principal" | "api_key_id";

/**
 * One group's totals over a range of days: the grouped dimensions carry their value, the others
 * are absent (summed over).
 */
export type UsageGroup = Partial<Pick<UsageDailyRow, UsageDimension>> & Pick<UsageDailyRow, "requests" | "prompt_tokens" | "completion_tokens" | "spend_nano">;

/** Rows kept by a usage query: for each dimension named, rows whose value is one of those given (none given: no row). */
export type UsageWhere = Partial<Record<UsageDimension, readonly string[]>>;

/**
 * Usage on UTC days in [fromDay, toDay] (`YYYY-MM-DD`), grouped by `dimensions` (none: one row
 * of totals, when there is any usage), ordered by the dimensions in the order given, of the rows
 * `where` keeps (default all).
 */
export async function usageByGroup(
  db: Db,
  accountId: string,
  fromDay: string,
  toDay: string,
  dimensions: readonly UsageDimension[],
  where: UsageWhere = {},
): Promise<UsageGroup[]> {
  let query = db
    .selectFrom("usage_daily")
    .select((eb) => [
      eb.fn.sum<number | string>("requests").as("requests"),
      eb.fn.sum<number | string>("prompt_tokens").as("prompt_tokens"),
      eb.fn.sum<number | string>("completion_tokens").as("completion_tokens"),
      eb.fn.sum<number | string>("spend_nano").as("spend_nano"),
    ])
    .where("account_id", "=", accountId)
    .where("day", ">=", fromDay)
    .where("day", "<=", toDay)
    .having((eb) => eb.fn.count("requests"), ">", 0);
  for (const [dimension, values] of Object.entries(where) as Array<[UsageDimension, readonly string[]]>) {
    query = values.length === 0 ? query.where(sql<boolean>`1 = 0`) : query.where(dimension, "in", values);
  }
  for (const dimension of dimensions) query = query.select(dimension).groupBy(dimension).orderBy(dimension) as unknown as typeof query;
  const rows = (await query.execute()) as Array<Record<string, number | string | null>>;
  return rows.map((r) => {
    const group: UsageGroup = {
      requests: Number(r.requests),
      prompt_tokens: Number(r.prompt_tokens),
      completion_tokens: Number(r.completion_tokens),
      spend_nano: Number(r.spend_nano),
    };
    for (const dimension of dimensions) group[dimension] = String(r[dimension]);
    return group;
  });
}
