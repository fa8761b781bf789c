import assert from "node:assert/strict";
import { sql } from "kysely";
import { after, before, describe, test } from "node:test";
import { pruneAuditLogs } from "../src/service/retention.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const DAY = 24 * 3600 * 1000;

for (const dialect of DIALECTS) {
  describe(`audit retention (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_AUDIT_RETENTION_DAYS: "30" });
    });
    after(() => h.stop());

    test("entries older than HEARTH_AUDIT_RETENTION_DAYS are deleted, newer ones kept", async () => {
      const db = h.deps.store.db;
      const base = {
        account_id: "my-account",
        principal: "x@example.com",
        method: "M",
        resource: "r",
        message: "M",
        message_folded: "m",
        status_code: 0,
        status_message: "",
        status_message_folded: "",
        payload: "{}",
        is_admin_action: 0,
        user_agent: "",
        client_ip: "",
        api_key_id: "",
        principal_uid: "",
      };
      const now = Date.now();
      await db
        .insertInto("audit_logs")
        .values([
          { ...base, id: "old-1", timestamp: now - 45 * DAY },
          { ...base, id: "old-2", timestamp: now - 31 * DAY },
          { ...base, id: "recent", timestamp: now - 29 * DAY },
        ])
        .execute();
      assert.equal(await pruneAuditLogs(h.deps.store, 30, now), 2);
      const ids = (await db.selectFrom("audit_logs").select("id").where("principal", "=", "x@example.com").execute()).map((r) => r.id);
      assert.deepEqual(ids, ["recent"]);
      assert.equal(await pruneAuditLogs(h.deps.store, 0, now), 0, "0 keeps everything");
    });

    if (dialect === "sqlite") {
      test("list queries are answered from indexes, not table scans", async () => {
        const plan = async (query: string) =>
          (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(h.deps.store.db)).rows.map((r) => r.detail).join(" | ");
        const cases = [
          "select * from users where account_id = 'a' and service_account = 1 order by id limit 51",
          "select * from users where account_id = 'a' order by create_time desc, id desc limit 51",
          "select * from audit_logs where account_id = 'a' and timestamp >= 0 and timestamp < 9 order by timestamp desc, id desc limit 11",
          "select * from audit_logs where account_id = 'a' and principal = 'p' and timestamp >= 0 order by timestamp desc, id desc limit 11",
          // A non-admin's own entries: its uid, or no uid since it was created.
          "select * from audit_logs where account_id = 'a' and principal = 'p' and is_admin_action = 0 and (principal_uid = 'u' or (principal_uid = '' and timestamp >= 5)) and timestamp >= 0 and timestamp < 9 order by timestamp desc, id desc limit 11",
          "select * from api_keys where account_id = 'a' and user_id = 'u' order by create_time, id limit 51",
          "select * from api_keys where digest = 'd'",
        ];
        for (const q of cases) {
          const p = await plan(q);
          assert.match(p, /USING (COVERING )?INDEX/, `${q}\n→ ${p}`);
          assert.doesNotMatch(p, /TEMP B-TREE/, `${q}\n→ ${p}`);
        }
      });
    }
  });
}
