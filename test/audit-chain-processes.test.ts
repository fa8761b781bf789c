import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { callJson } from "./support/cluster-modes.ts";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { serve, type Served } from "./support/process.ts";

/**
 * 200 audited changes at once through three `hearth serve` processes on one PostgreSQL append to
 * one account's chain one at a time (the chain head's row lock): no position is taken twice, none
 * is skipped, and the chain verifies.
 */

if (DIALECTS.includes("postgres")) {
  describe("the audit chain with concurrent writers in three processes (postgres)", () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    const procs: Served[] = [];
    let admin = "";
    const A = "/v1/accounts/my-account";

    before(async () => {
      db = await freshDatabase("postgres");
      const env = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
      procs.push(await serve(env));
      procs.push(...(await Promise.all([serve(env), serve(env)])));
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
      for (let i = 0; i < 10; i++)
        assert.equal((await callJson(procs[0]!.baseUrl, admin, "POST", `${A}/users?userId=sa-${i}`, { serviceAccount: true })).status, 200);
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await db.drop();
    });

    test("200 concurrent writers produce one valid chain", async () => {
      const writes = Array.from({ length: 200 }, (_, i) =>
        callJson(procs[i % 3]!.baseUrl, admin, "PATCH", `${A}/users/sa-${i % 10}?updateMask=displayName`, { displayName: `writer ${i}` }),
      );
      const answers = await Promise.all(writes);
      assert.deepEqual(
        answers.filter((a) => a.status !== 200),
        [],
      );
      const report = await callJson(procs[1]!.baseUrl, admin, "GET", `${A}/auditLogs:verify`);
      assert.equal(report.status, 200);
      assert.equal(report.body.verified, true, JSON.stringify(report.body));
      const updates = await callJson(procs[2]!.baseUrl, admin, "GET", `${A}/auditLogs?pageSize=1&filter=${encodeURIComponent('method="UpdateUser"')}`);
      assert.equal(updates.body.totalSize, 200);
      assert.ok(report.body.entriesVerified >= 210, `${report.body.entriesVerified} entries verified`);
      // Every process signs with the one key in the store.
      const keys = await (await fetch(`${procs[2]!.baseUrl}/.well-known/hearth-audit-keys`)).json();
      assert.equal((keys as any).keys.length, 1);
    });
  });
}
