import type { QuotaRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { QUOTA_DEFAULTS, QUOTA_IDS, type QuotaId } from "../domain/quotas.ts";

export async function insertDefaultQuotas(db: Db, accountId: string, now: number): Promise<void> {
  await db
    .insertInto("quotas")
    .values(QUOTA_IDS.map((id) => ({ account_id: accountId, id, value: QUOTA_DEFAULTS[id], max_value: QUOTA_DEFAULTS[id], update_time: now })))
    .execute();
}

export function listQuotas(db: Db, accountId: string): Promise<QuotaRow[]> {
  return db.selectFrom("quotas").selectAll().where("account_id", "=", accountId).orderBy("id").execute();
}

export function getQuota(db: Db, accountId: string, id: QuotaId): Promise<QuotaRow | undefined> {
  return db.selectFrom("quotas").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

export async function setQuota(db: Db, accountId: string, id: QuotaId, patch: Partial<Pick<QuotaRow, "value" | "max_value">>, now: number): Promise<void> {
  await db
    .updateTable("quotas")
    .set({ ...patch, update_time: now })
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
}
