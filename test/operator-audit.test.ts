import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS } from "./support/hearth.ts";
import { hearth, processHearth, type ProcessHearth } from "./support/process.ts";

/**
 * Issue 15: every operator command that changes state is audited as principal "operator", in the
 * account it concerns — driven as real `hearth` processes, read back over HTTP.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`operator commands are audited as "operator" (${dialect})`, () => {
    let p: ProcessHearth;
    const call = (method: string, path: string, body?: unknown) => p.call(method, path, p.adminKey(), body);
    const operatorEntries = async (method: string): Promise<any[]> => {
      const filter = encodeURIComponent(`principal="operator" AND method="${method}"`);
      const res = await call("GET", `${A}/auditLogs?pageSize=50&filter=${filter}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.auditLogs;
    };
    const run = async (args: string[]) => {
      const done = await hearth(args, p.env);
      assert.equal(done.code, 0, `hearth ${args.join(" ")}: ${done.stderr}`);
      return done.stdout;
    };

    before(async () => {
      p = await processHearth(dialect, { HEARTH_KEY_CACHE_TTL_MS: "0" });
      await p.serve();
    });
    after(() => p.close());

    test("regression: hearth account quota set writes an UpdateQuota entry with the new and previous maximum and value", async () => {
      assert.deepEqual(await operatorEntries("UpdateQuota"), [], "nothing before");
      await run(["account", "quota", "set", "my-account", "service-accounts", "--max", "500"]);
      const [entry, ...more] = await operatorEntries("UpdateQuota");
      assert.equal(more.length, 0);
      assert.equal(entry.principal, "operator");
      assert.equal(entry.principalUid, "");
      assert.equal(entry.apiKeyId, "");
      assert.equal(entry.userAgent, "hearth");
      assert.equal(entry.isAdminAction, true);
      assert.equal(entry.resource, "accounts/my-account/quotas/service-accounts");
      assert.equal(entry.status.code, "OK");
      assert.deepEqual(entry.payload, { maxValue: "500", value: "500", previousMaxValue: "100", previousValue: "100" });
      const quota = await call("GET", `${A}/quotas/service-accounts`);
      assert.equal(quota.body.maxValue, "500");

      // A refusal on an existing account is recorded too; nothing changed.
      const refused = await hearth(["account", "quota", "set", "my-account", "gpus", "--max", "1"], p.env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /quota "gpus" not found/);
      const entries = await operatorEntries("UpdateQuota");
      assert.equal(entries.length, 2);
      assert.equal(entries[0].resource, "accounts/my-account/quotas/gpus");
      assert.equal(entries[0].status.code, "NOT_FOUND");
      assert.match(entries[0].status.message, /^NOT_FOUND: quota "gpus" not found/);
    });

    test("account create, set-role, sign-in link: each change has its operator entry, with the same actor", async () => {
      const robot = await call("POST", `${A}/users?userId=robot`, { serviceAccount: true, role: "user" });
      assert.equal(robot.status, 200, JSON.stringify(robot.body));
      await run(["user", "set-role", "robot", "contributor", "--account", "my-account"]);
      const [role] = await operatorEntries("UpdateUser");
      assert.equal(role.resource, "accounts/my-account/users/robot");
      assert.deepEqual(role.payload, { role: "contributor", previousRole: "user" });
      await run(["signin-link", "admin@example.com", "--account", "my-account"]);
      const [link] = await operatorEntries("CreateSigninLink");
      assert.equal(link.resource, "accounts/my-account/users/admin-example-com");
      // The bootstrap account was created by the operator: its creation and its first key.
      assert.equal((await operatorEntries("CreateAccount")).length, 1);
      assert.equal((await operatorEntries("CreateApiKey")).length, 1);
      for (const entry of [role, link]) {
        assert.deepEqual([entry.principal, entry.userAgent, entry.clientIp, entry.isAdminAction], ["operator", "hearth", "", true]);
      }
    });

    if (dialect === "sqlite") {
      test("restore writes a RestoreStore entry in the restored store, naming the backup file", async () => {
        const file = join(p.dataDir, "before-quota.db");
        await run(["backup", file]);
        await run(["account", "quota", "set", "my-account", "datasets", "--max", "7"]);
        assert.equal(await p.server!.stop(), 0);
        const restored = await run(["restore", file]);
        assert.match(restored, /audited as "operator" \(RestoreStore\) in 1 account/);
        await p.serve();
        const [entry, ...more] = await operatorEntries("RestoreStore");
        assert.equal(more.length, 0);
        assert.equal(entry.resource, "accounts/my-account");
        assert.equal(entry.isAdminAction, true);
        assert.deepEqual(entry.payload, { backupFile: resolve(file), schemaVersion: entry.payload.schemaVersion });
        assert.ok(Number.isInteger(entry.payload.schemaVersion) && entry.payload.schemaVersion > 0);
        // The store is the backup: the quota change made after it is gone, with its entry.
        const quota = await call("GET", `${A}/quotas/datasets`);
        assert.notEqual(quota.body.maxValue, "7");
        assert.ok((await operatorEntries("UpdateQuota")).every((e) => e.resource !== "accounts/my-account/quotas/datasets"));
      });
    }
  });
}
