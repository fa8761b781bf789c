import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sql } from "kysely";
import { migrate } from "../src/store/migrations.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { countServiceAccounts } from "../src/store/users.ts";
import { DIALECTS, freshDatabase, startHearth } from "./support/hearth.ts";

/** The account's service accounts counted row by row: what the kept count must always equal. */
async function counted(store: Store, accountId: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from users where account_id = ${accountId} and service_account = 1`.execute(store.db);
  return Number(r.rows[0]!.n);
}

for (const dialect of DIALECTS) {
  describe(`the service-accounts count kept by the store (${dialect})`, () => {
    test("migration 26 counts the service accounts already stored; triggers keep the count through inserts, deletes and changes", async () => {
      const db = await freshDatabase(dialect);
      const store = await openStore({ databaseUrl: db.env.DATABASE_URL, dataDir: db.env.HEARTH_DATA_DIR, migrate: false });
      try {
        await migrate(store.db, store.dialect, 25);
        for (const id of ["acme", "other"])
          await sql`insert into accounts (id, display_name, email, state, create_time, update_time) values (${id}, ${id}, ${`admin@${id}.example`}, 'READY', 1, 1)`.execute(
            store.db,
          );
        const addUser = (accountId: string, id: string, serviceAccount: 0 | 1) =>
          sql`insert into users (account_id, id, uid, display_name, email, role, service_account, state, create_time, update_time)
            values (${accountId}, ${id}, ${`${accountId}-${id}`}, '', ${`${id}@${accountId}.example`}, 'user', ${serviceAccount}, 'READY', 1, 1)`.execute(
            store.db,
          );
        for (let i = 0; i < 5; i++) await addUser("acme", `sa-${i}`, 1);
        await addUser("acme", "human", 0);
        await addUser("other", "sa-0", 1);

        await migrate(store.db, store.dialect);
        assert.equal(await countServiceAccounts(store.db, "acme"), 5, "filled from the users stored before the migration");
        assert.equal(await countServiceAccounts(store.db, "other"), 1);
        assert.equal(await countServiceAccounts(store.db, "nobody"), 0);

        await addUser("acme", "sa-5", 1);
        await addUser("acme", "human-2", 0);
        await sql`delete from users where account_id = 'acme' and id in ('sa-0', 'human')`.execute(store.db);
        // A user that stops or starts being a service account moves the count both ways.
        await sql`update users set service_account = 0 where account_id = 'acme' and id = 'sa-1'`.execute(store.db);
        await sql`update users set service_account = 1 where account_id = 'acme' and id = 'human-2'`.execute(store.db);
        await sql`update users set display_name = 'renamed' where account_id = 'acme'`.execute(store.db);
        assert.equal(await countServiceAccounts(store.db, "acme"), await counted(store, "acme"));
        assert.equal(await countServiceAccounts(store.db, "acme"), 5);
        // A rolled-back insert leaves the count as it was.
        await assert.rejects(
          store.db.transaction().execute(async (trx) => {
            await sql`insert into users (account_id, id, uid, display_name, email, role, service_account, state, create_time, update_time)
              values ('other', 'sa-9', 'other-sa-9', '', 'sa-9@other.example', 'user', 1, 'READY', 1, 1)`.execute(trx);
            throw new Error("roll back");
          }),
          /roll back/,
        );
        assert.equal(await countServiceAccounts(store.db, "other"), 1);
      } finally {
        await store.close();
        await db.drop();
      }
    });

    test("over the API: the quota's usage follows creates and deletes, and a create at the limit is refused", async () => {
      const h = await startHearth(dialect);
      try {
        const A = `/v1/accounts/${h.accountId}`;
        assert.equal((await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: "3" } })).status, 200);
        for (const id of ["c1", "c2", "c3"]) assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
        assert.equal((await h.call("POST", `${A}/users?userId=c4`, { body: { serviceAccount: true } })).status, 429);
        assert.equal((await h.call("DELETE", `${A}/users/c2`)).status, 200);
        const quota = await h.call("GET", `${A}/quotas/service-accounts`);
        assert.equal(quota.body.usage, 2);
        assert.equal(quota.body.usage, await counted(h.deps.store, h.accountId));
        assert.equal((await h.call("POST", `${A}/users?userId=c4`, { body: { serviceAccount: true } })).status, 200);
        assert.equal((await h.call("POST", `${A}/users?userId=c5`, { body: { serviceAccount: true } })).status, 429);
      } finally {
        await h.stop();
      }
    });
  });
}
