import type { QuotaRow } from "./schema.ts";
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
