/**
 * @module An account's audit settings (the `accounts.audit_data_access` column, migration 20).
 */
import type { Db } from "./store.ts";

/** Whether the account records data-access entries (successful reads of users, API keys, audit logs); false for an unknown account. */
export async function dataAccessAudited(db: Db, accountId: string): Promise<boolean> {
  const row = await db.selectFrom("accounts").select("audit_data_access").where("id", "=", accountId).executeTakeFirst();
  return row?.audit_data_access === 1;
}

/** Switches the account's data-access entries on or off; false when there is no such account. */
export async function setDataAccessAudited(db: Db, accountId: string, on: boolean): Promise<boolean> {
  const result = await db
    .updateTable("accounts")
    .set({ audit_data_access: on ? 1 : 0 })
    .where("id", "=", accountId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
