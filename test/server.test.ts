import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { hearth, serve } from "./support/process.ts";
import { until } from "./support/until.ts";

const get = async (url: string, key?: string) => {
  const res = await fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: (await res.json()) as any };
};

for (const dialect of DIALECTS) {
  describe(`hearth serve as a real process (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    before(async () => {
      db = await freshDatabase(dialect);
      env = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
    });
    after(() => db.drop());

    test("first start creates the account and admin, prints the key once and writes it 0600; a restart creates nothing", async () => {
      const first = await serve(env);
      const keyFile = join(db.dataDir, "admin-api-key");
      const key = readFileSync(keyFile, "utf8").trim();
      assert.match(first.output(), new RegExp(`Admin API key.*\\n\\s+${key}`));
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const users = await get(`${first.baseUrl}/v1/accounts/my-account/users`, key);
      assert.equal(users.status, 200);
      assert.deepEqual(
        users.body.users.map((u: any) => [u.email, u.role]),
        [["admin@example.com", "admin"]],
      );
      assert.equal(await first.stop("SIGTERM"), 0, "SIGTERM is a clean exit");

      const second = await serve(env);
      assert.ok(!second.output().includes("Admin API key"));
      assert.equal(readFileSync(keyFile, "utf8").trim(), key, "the key file is untouched");
      const again = await get(`${second.baseUrl}/v1/accounts/my-account/users`, key);
      assert.equal(again.body.totalSize, 1);
      const keys = await get(`${second.baseUrl}/v1/accounts/my-account/users/admin-example-com/apiKeys`, key);
      assert.equal(keys.body.totalSize, 1);
      assert.equal(await second.stop(), 0);
    });

    test("operator commands: account create, quota set, migrate", async () => {
      const created = await hearth(["account", "create", "acme", "--admin-email", "ops@acme.example"], env);
      assert.equal(created.code, 0, created.stderr);
      const key = /\n\s+(hk_\S+)/.exec(created.stdout)?.[1];
      assert.ok(key, created.stdout);
      const quota = await hearth(["account", "quota", "set", "acme", "service-accounts", "--max", "500"], env);
      assert.equal(quota.code, 0, quota.stderr);
      assert.equal((await hearth(["migrate"], env)).stdout.trim(), "database is up to date");

      const s = await serve(env);
      const q = await get(`${s.baseUrl}/v1/accounts/acme/quotas/service-accounts`, key);
      assert.equal(q.body.maxValue, "500");
      assert.equal(q.body.value, "500");
      const account = await get(`${s.baseUrl}/v1/accounts/acme`, key);
      assert.equal(account.body.name, "accounts/acme");
      assert.equal(account.body.email, "ops@acme.example");
      const health = await get(`${s.baseUrl}/healthz`);
      assert.equal(health.status, 200);
      const doc = await get(`${s.baseUrl}/openapi.json`);
      assert.equal(doc.body.openapi, "3.1.0");
      const createUser = doc.body.paths["/v1/accounts/{accountId}/users"].post;
      assert.equal(createUser.operationId, "CreateUser");
      // What a create takes; the User's output-only fields are accepted back and ignored (AIP-203), marked readOnly.
      const properties = Object.entries<any>(createUser.requestBody.content["application/json"].schema.properties);
      assert.deepEqual(
        properties
          .filter(([, p]) => !p.readOnly)
          .map(([name]) => name)
          .sort(),
        ["displayName", "email", "permissionPreset", "role", "serviceAccount"],
      );
      assert.deepEqual(
        properties
          .filter(([, p]) => p.readOnly)
          .map(([name]) => name)
          .sort(),
        ["apiKeyCount", "createTime", "lastActiveTime", "name", "state", "status", "uid", "updateTime"],
      );
      assert.equal(await s.stop(), 0);
    });

    test("operator mistakes are one sentence and a non-zero exit", async () => {
      const dup = await hearth(["account", "create", "acme", "--admin-email", "x@acme.example"], env);
      assert.equal(dup.code, 1);
      assert.equal(dup.stderr.trim(), 'hearth: account "acme" already exists');
      const badId = await hearth(["account", "create", "Bad_Id", "--admin-email", "x@acme.example"], env);
      assert.equal(badId.code, 1);
      assert.match(badId.stderr, /^hearth: invalid account id "Bad_Id"/);
      const badQuota = await hearth(["account", "quota", "set", "acme", "gpus", "--max", "1"], env);
      assert.match(badQuota.stderr, /quota "gpus" not found/);
      const badMax = await hearth(["account", "quota", "set", "acme", "datasets", "--max", "lots"], env);
      assert.notEqual(badMax.code, 0);
      assert.match(badMax.stderr, /non-negative integer/);
      const badEnv = await hearth(["migrate"], { ...env, HEARTH_PORT: "99999" });
      assert.equal(badEnv.code, 1);
      assert.match(badEnv.stderr, /invalid configuration: HEARTH_PORT/);
    });

    test("the access log, written asynchronously, has every request's line: soon while serving, and all still pending at a graceful stop", async () => {
      const served = await serve({ ...env, HEARTH_LOG_LEVEL: "info" });
      const key = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
      const lines = (reqId: string) =>
        served
          .output()
          .split("\n")
          .filter((l) => l.includes(`"reqId":"${reqId}"`) && l.includes('"msg":"request"'));
      const call = async (reqId: string) => {
        const res = await fetch(`${served.baseUrl}/v1/accounts/my-account/users`, { headers: { authorization: `Bearer ${key}`, "x-request-id": reqId } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      };
      // One quiet request: its line is written without more traffic to push it out.
      await call("alone");
      await until("the access-log line of a lone request", async () => (lines("alone").length === 1 ? true : undefined));
      // A burst, answered in full, then a stop at once: lines coalesced while a write was under way are not lost.
      const burst = Array.from({ length: 400 }, (_, i) => `burst-${i}`);
      for (let i = 0; i < burst.length; i += 50) await Promise.all(burst.slice(i, i + 50).map(call));
      assert.equal(await served.stop("SIGTERM"), 0);
      assert.deepEqual(
        burst.filter((id) => lines(id).length !== 1),
        [],
        "each request of the burst has exactly one line",
      );
    });
  });
}
