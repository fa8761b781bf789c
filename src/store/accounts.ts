import { sql } from "kysely";
import type { AccountRow } from "./schema.ts";
import type { Db, Store } from "./store.ts";
import { insertUnique } from "./errors.ts";

export function getAccount(db: Db, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function insertAccount(db: Db, row: AccountRow): Promise<void> {
  await insertUnique(() => db.insertInto("accounts").values(row).execute(), `account "${row.id}" already exists`);
}

/**
 * Serialises quota-checked writes of one account: on PostgreSQL a row lock held to the end of the
 * transaction; SQLite runs one write transaction at a time already.
 */
export async function lockAccount(store: Store, trx: Db, accountId: string): Promise<void> {
  if (store.dialect === "postgres") {
    await sql`select id from accounts where id = ${accountId} for update`.execute(trx);
  }
}
