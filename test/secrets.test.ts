import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";

for (const dialect of DIALECTS) {
  describe(`no plaintext secret at rest or in logs (${dialect})`, () => {
    let h: TestHearth;
    let secrets: string[];
    before(async () => {
      h = await startHearth(dialect);
      const { key } = await serviceAccountWithKey(h, "ci-bot");
      // Use the key, so it passes through verification, logging and lastUsed.
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200);
      assert.equal((await h.call("GET", "/v1/accounts/my-account/users", { key })).status, 200);
      await h.deps.lastUsed.flush();
      secrets = [key, h.adminKey];
    });
    after(() => h.stop());

    test("the key's secret is returned once: never by get or list", async () => {
      const list = await h.call("GET", "/v1/accounts/my-account/users/ci-bot/apiKeys");
      assert.equal(list.body.apiKeys.length, 1);
      assert.equal(list.body.apiKeys[0].key, undefined);
      assert.ok(list.body.apiKeys[0].lastUsed, "lastUsed was recorded");
      const one = await h.call("GET", `/v1/accounts/my-account/users/ci-bot/apiKeys/${list.body.apiKeys[0].keyId}`);
      assert.equal(one.body.key, undefined);
      for (const s of secrets) assert.ok(!JSON.stringify([list.body, one.body]).includes(s.slice(3)));
    });

    test("the store holds only digests", async () => {
      if (dialect === "sqlite") {
        // Search the database file and its WAL, as a thief with a copy of the data directory would.
        for (const file of readdirSync(h.dataDir)) {
          if (file === "admin-api-key") continue; // the documented hand-over file, mode 0600
          const bytes = readFileSync(join(h.dataDir, file));
          for (const s of secrets) assert.equal(bytes.includes(s.slice(3)), false, `${file} holds a key`);
        }
        // The data is in the database file or, while a checkpoint is blocked (another connection of
        // the server's may be mid-checkpoint on a busy machine), still in its WAL: read them together.
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.deps.store.db);
        const stored = ["hearth.db", "hearth.db-wal"].filter((f) => existsSync(join(h.dataDir, f)));
        const db = Buffer.concat(stored.map((f) => readFileSync(join(h.dataDir, f))));
        assert.ok(db.includes("ci-bot@my-account"), "the search does see the data");
        for (const s of secrets) assert.equal(db.includes(s.slice(3)), false);
      } else {
        const tables = ["accounts", "users", "api_keys", "audit_logs", "quotas"];
        for (const table of tables) {
          const rows = await sql<{ t: string }>`select t::text as t from ${sql.table(table)} t`.execute(h.deps.store.db);
          const dump = rows.rows.map((r) => r.t).join("\n");
          assert.ok(dump.length > 0 || table === "quotas");
          for (const s of secrets) assert.equal(dump.includes(s.slice(3)), false, `${table} holds a key`);
        }
      }
    });

    test("logs never contain a key", () => {
      const text = h.logs.join("");
      assert.ok(text.includes('"msg":"request"'), "requests were logged");
      for (const s of secrets) assert.equal(text.includes(s.slice(3)), false);
    });

    test("each request is one JSON log line with a request id, echoed to the client; successful key checks and probes only at debug", async () => {
      const linesOf = (id: string) => h.logs.flatMap((l) => l.split("\n")).filter((l) => l.includes(`"reqId":"${id}"`));
      const res = await h.call("GET", "/v1/accounts/my-account", { headers: { "x-request-id": "trace-123" } });
      assert.equal(res.headers["x-request-id"], "trace-123");
      const lines = linesOf("trace-123");
      assert.equal(lines.length, 1);
      const entry = JSON.parse(lines[0]!);
      assert.equal(entry.path, "/v1/accounts/my-account");
      assert.equal(entry.status, 200);

      assert.equal((await h.call("GET", "/healthz", { key: null, headers: { "x-request-id": "probe-1" } })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { headers: { "x-request-id": "check-1" } })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: "hk_not-a-key", headers: { "x-request-id": "check-2" } })).status, 401);
      assert.deepEqual([linesOf("probe-1").length, linesOf("check-1").length, linesOf("check-2").length], [0, 0, 1], "a refused key check is still logged");
    });
  });
}
