import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKey } from "../src/domain/api-key-format.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";

const A = "/v1/accounts/my-account";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Verifies twice, so the second answer came from the warm cache. */
async function warm(h: TestHearth, key: string): Promise<void> {
  for (let i = 0; i < 2; i++) assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200);
}

for (const dialect of DIALECTS) {
  describe(`key verification with a cache that never serves a revoked key (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_LAST_USED_FLUSH_MS: "100" });
    });
    after(() => h.stop());

    test("repeat verifications are served from the cache", async () => {
      const { key } = await serviceAccountWithKey(h, "cached");
      const hits = h.deps.keyCache.hits;
      await warm(h, key);
      await warm(h, key);
      assert.ok(h.deps.keyCache.hits >= hits + 3);
    });

    test("a deleted key is refused on the next request", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "key-deleted");
      await warm(h, key);
      assert.equal((await h.call("DELETE", `${A}/users/key-deleted/apiKeys/${keyId}`)).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
    });

    test("a deleted owner's keys are refused on the next request", async () => {
      const { key } = await serviceAccountWithKey(h, "owner-deleted");
      await warm(h, key);
      assert.equal((await h.call("DELETE", `${A}/users/owner-deleted`)).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
    });

    test("a downgraded role applies on the next request", async () => {
      const { key } = await serviceAccountWithKey(h, "downgraded", "admin");
      await warm(h, key);
      assert.equal((await h.call("POST", `${A}/users?userId=made-while-admin`, { key, body: { serviceAccount: true } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/users/downgraded`, { body: { role: "inference-user" } })).status, 200);
      const verify = await h.call("GET", "/verifyApiKey", { key });
      assert.equal(verify.headers["x-hearth-role"], "inference-user");
      assert.equal((await h.call("POST", `${A}/users?userId=made-after`, { key, body: { serviceAccount: true } })).status, 403);
    });

    test("an expiring key stops working when it expires, cached or not", async () => {
      const sa = await h.call("POST", `${A}/users?userId=expiring`, { body: { serviceAccount: true } });
      assert.equal(sa.status, 200);
      const made = await h.call("POST", `${A}/users/expiring/apiKeys`, { body: { apiKey: { expireTime: new Date(Date.now() + 600).toISOString() } } });
      assert.equal(made.status, 200);
      await warm(h, made.body.key);
      await sleep(700);
      const res = await h.call("GET", "/verifyApiKey", { key: made.body.key });
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /expired/);
    });

    test("unknown keys are cached as missing, within a fixed bound", async () => {
      const bound = h.deps.config.keyCache.negativeSize;
      for (let i = 0; i < 50; i++) assert.equal((await h.call("GET", "/verifyApiKey", { key: generateKey().key })).status, 401);
      const negative = (h.deps.keyCache as unknown as { negative: Map<string, number> }).negative;
      assert.ok(negative.size >= 50 && negative.size <= bound);
    });

    test("lastUsed reaches the store within the flush interval, without a write per request", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "used");
      const row = () => h.deps.store.db.selectFrom("api_keys").select("last_used").where("id", "=", keyId).executeTakeFirstOrThrow();
      assert.equal((await row()).last_used, null);
      for (let i = 0; i < 20; i++) await h.call("GET", "/verifyApiKey", { key });
      assert.equal((await row()).last_used, null, "not written per request");
      await sleep(400);
      const written = (await row()).last_used;
      assert.ok(written !== null && Date.now() - written < 5000);
    });
  });

  describe(`lastUsed survives a graceful shutdown (${dialect})`, () => {
    test("pending times are written when the server closes", async () => {
      const h = await startHearth(dialect, { HEARTH_LAST_USED_FLUSH_MS: "600000" });
      try {
        await h.call("GET", "/verifyApiKey");
        await h.close();
        const { openTestStore } = await import("./support/hearth.ts");
        const store = await openTestStore(h.env);
        const rows = await store.db.selectFrom("api_keys").select("last_used").execute();
        await store.close();
        assert.equal(rows.length, 1);
        assert.ok(rows[0]!.last_used !== null);
      } finally {
        await h.stop();
      }
    });
  });

  describe(`failed attempts from one address are slowed, then refused, then released (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_AUTH_FAILURES_SLOW: "3", HEARTH_AUTH_FAILURES_BLOCK: "6", HEARTH_AUTH_FAILURE_WINDOW_MS: "1500" });
    });
    after(() => h.stop());

    test("throttling engages and releases; attempts are audited in aggregate", async () => {
      const bad = generateKey().key;
      const statuses: number[] = [];
      let slowest = 0;
      for (let i = 0; i < 8; i++) {
        const started = Date.now();
        statuses.push((await h.call("GET", `${A}/users`, { key: bad })).status);
        slowest = Math.max(slowest, Date.now() - started);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
      assert.ok(slowest >= 100, "failures past the first few are answered slowly");
      assert.equal((await h.call("GET", `${A}/users`)).status, 200, "while blocked, a good key from the address is still served");
      const blocked = await h.call("GET", `${A}/users`, { key: bad });
      assert.equal(blocked.status, 429, "while blocked, a failure is refused");
      assert.equal(blocked.body.error.status, "RESOURCE_EXHAUSTED");
      assert.match(blocked.body.error.message, /too many failed authentication attempts/);
      assert.ok(Number(blocked.headers["retry-after"]) >= 1);

      await sleep(1700);
      assert.equal((await h.call("GET", `${A}/users`)).status, 200, "released when the window ends");
      const single = await auditEntries(h, 'message="ListUsers" AND status:"UNAUTHENTICATED"');
      assert.equal(single.length, 3, "the first attempts are audited one by one");
      const summary = await auditEntries(h, 'message="UnauthenticatedAttempts"');
      assert.equal(summary.length, 1);
      assert.equal(summary[0].payload.attempts, 3, "the rest are one summary entry");
      assert.equal(summary[0].clientIp, "127.0.0.1");
    });
  });
}
