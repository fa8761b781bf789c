import type { KeyPolicyRow } from "./schema.ts";
import type { Db } from "./store.ts";

/** The account's key policy; undefined when none was ever set (no limits). */
export function getKeyPolicy(db: Db, accountId: string): Promise<KeyPolicyRow | undefined> {
  return db.selectFrom("key_policies").selectAll().where("account_id", "=", accountId).executeTakeFirst();
}

/** Writes the account's key policy whole (inserted on first write). */
export async function putKeyPolicy(db: Db, row: KeyPolicyRow): Promise<void> {
  const { account_id: _, ...values } = row;
  await db
    .insertInto("key_policies")
    .values(row)
    .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
    .execute();
}
