import { sql } from "kysely";
import type { AccountRow } from "./schema.ts";
import type { Db, Store } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { nameField } from "./filter-sql.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";

export function getAccount(db: Db, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
}

/** ListAccounts' filter fields (AIP-160) and orders. */
const ACCOUNTS_TABLE: ListTable = {
  fields: {
    name: nameField("accounts"),
    display_name: { column: "display_name", type: "string" },
    state: { column: "state", type: "string" },
    create_time: { column: "create_time", type: "timestamp" },
    update_time: { column: "update_time", type: "timestamp" },
  },
  order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
};

/** One page (AIP-158) of the accounts among `ids` that match `req.filter` (AIP-160), by name. */
export function listAccountPage(db: Db, ids: readonly string[], req: ListRequest): Promise<ListResult<AccountRow>> {
  return listPage<AccountRow>(db.selectFrom("accounts").where("id", "in", [...ids]), ACCOUNTS_TABLE, req);
}

/** Every account's id, in id order. */
export async function accountIds(db: Db): Promise<string[]> {
  return (await db.selectFrom("accounts").select("id").orderBy("id").execute()).map((r) => r.id);
}

/**
 * Upgrade of accounts created before each recorded its service-account domain (`sa_domain` empty):
 * they take `domain`, the one configured now. A second process doing the same changes nothing.
 */
export async function fillServiceAccountDomains(db: Db, domain: string): Promise<void> {
  await db.updateTable("accounts").set({ sa_domain: domain }).where("sa_domain", "=", "").execute();
}

/** The accounts whose service-account domain is not `domain`, in id order. */
export function accountsWithOtherSaDomain(db: Db, domain: string): Promise<Array<Pick<AccountRow, "id" | "sa_domain">>> {
  return db.selectFrom("accounts").select(["id", "sa_domain"]).where("sa_domain", "!=", domain).orderBy("id").execute();
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
