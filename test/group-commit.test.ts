import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { groupCommitStats } from "../src/store/group-commit.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`concurrent creations share transactions, and each keeps its own outcome and audit entry (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("ten creations at once with one duplicate among them: the duplicate alone fails, every other is stored with its entry", async () => {
      assert.equal((await h.call("POST", `${A}/users?userId=taken`, { body: { serviceAccount: true } })).status, 200);
      const before = groupCommitStats(h.deps.store);
      const ids = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
      const answers = await Promise.all(
        [...ids.slice(0, 5), "taken", ...ids.slice(5)].map((id) => h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200, 409, 200, 200, 200, 200, 200],
      );
      for (const id of ids) {
        assert.equal((await h.call("GET", `${A}/users/${id}`)).status, 200, `${id} is stored`);
        const [entry, ...more] = await auditEntries(h, `method="CreateUser" AND resource="accounts/my-account/users/${id}"`);
        assert.ok(entry && more.length === 0, `${id} has exactly one entry`);
        assert.equal(entry.status.code, "OK");
      }
      const refused = await auditEntries(h, 'method="CreateUser" AND resource="accounts/my-account/users/taken" AND status:"ALREADY_EXISTS"');
      assert.equal(refused.length, 1, "the duplicate's refusal is audited once");
      if (dialect === "sqlite") {
        const after = groupCommitStats(h.deps.store);
        assert.equal(after.changes - before.changes, 11, "every creation ran through the group");
        assert.ok(after.transactions - before.transactions < 11, `grouped into fewer transactions (${after.transactions - before.transactions})`);
      }
    });

    test("a key created in the same burst as its owner's other keys: each key stored once, each with its entry", async () => {
      assert.equal((await h.call("POST", `${A}/users?userId=key-owner`, { body: { serviceAccount: true } })).status, 200);
      const made = await Promise.all(Array.from({ length: 6 }, () => h.call("POST", `${A}/users/key-owner/apiKeys`, { body: { apiKey: {} } })));
      assert.deepEqual(
        made.map((m) => m.status),
        Array(6).fill(200),
      );
      for (const m of made) assert.equal((await h.call("GET", "/verifyApiKey", { key: m.body.key })).status, 200);
      const entries = await auditEntries(h, 'method="CreateApiKey" AND resource="accounts/my-account/users/key-owner"');
      assert.equal(entries.filter((e) => e.status.code === "OK").length, 6);
    });
  });
}
