import type { QuotaRow, Schema } from "./schema.ts";
import type { Db } from "./store.ts";
import { QUOTA_DEFAULTS, QUOTA_IDS, type QuotaId } from "../domain/quotas.ts";
import { collectionName } from "../domain/resource-names.ts";
import { nameField } from "./filter-sql.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";

export async function insertDefaultQuotas(db: Db, accountId: string, now: number): Promise<void> {
  await db
    .insertInto("quotas")
    .values(QUOTA_IDS.map((id) => ({ account_id: accountId, id, value: QUOTA_DEFAULTS[id], max_value: QUOTA_DEFAULTS[id], update_time: now })))
    .execute();
}

/** ListQuotas' filter fields (AIP-160: `name`, `update_time`) and order (by name). */
const quotasTable = (accountId: string): ListTable => ({
  fields: { name: nameField(collectionName(accountId, "quotas")), update_time: { column: "update_time", type: "timestamp" } },
  order: { name: "id", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
});

/** One page of the account's quotas (AIP-158 paging, AIP-160 filter), by name. */
export function listQuotaPage(db: Db, accountId: string, req: ListRequest): Promise<ListResult<QuotaRow>> {
  return listPage<QuotaRow>(db.selectFrom("quotas").where("account_id", "=", accountId), quotasTable(accountId), req);
}

export function getQuota(db: Db, accountId: string, id: QuotaId): Promise<QuotaRow | undefined> {
  return db.selectFrom("quotas").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

/** Writes quota `id` of `accountId` at its default maximum with `value` (UpdateQuota with `allowMissing`). */
export async function insertQuota(db: Db, accountId: string, id: QuotaId, value: number, now: number): Promise<QuotaRow> {
  const row = { account_id: accountId, id, value, max_value: QUOTA_DEFAULTS[id], update_time: now };
  await db.insertInto("quotas").values(row).execute();
  return row;
}

export async function setQuota(db: Db, accountId: string, id: QuotaId, patch: Partial<Pick<QuotaRow, "value" | "max_value">>, now: number): Promise<void> {
  await db
    .updateTable("quotas")
    .set({ ...patch, update_time: now })
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
}

/**
 * The quotas whose usage is the number of the account's rows in one table, and that table (a few
 * hundred rows at most: the quota bounds them).
 */
const COUNTED_ROWS: Partial<Record<QuotaId, "webhooks" | "audit_sinks" | "models" | "identity_providers" | "permission_presets">> = {
  webhooks: "webhooks",
  "audit-sinks": "audit_sinks",
  models: "models",
  "identity-providers": "identity_providers",
  "permission-presets": "permission_presets",
} satisfies Partial<Record<QuotaId, keyof Schema>>;

/** Usage of quota `id` counted as the account's rows of its table (`COUNTED_ROWS`); undefined for any other quota. */
export async function countedRows(db: Db, accountId: string, id: QuotaId): Promise<number | undefined> {
  const table = COUNTED_ROWS[id];
  if (!table) return undefined;
  const { held } = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as("held"))
    .where("account_id", "=", accountId)
    .executeTakeFirstOrThrow();
  return Number(held);
}
