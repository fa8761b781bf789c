import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "../support/hearth.ts";

/**
 * Bugs the reliability suite (npm run test:reliability) found, pinned in the fast suite. Each race
 * is run many times, since one run may miss the window.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`regressions found by the reliability suite (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("bug: creating an API key while its owner was being deleted answered 500 (a foreign-key failure on PostgreSQL)", async () => {
      for (let round = 0; round < 15; round++) {
        const id = `key-race-${round}`;
        assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
        const results = await Promise.all([
          ...Array.from({ length: 5 }, () => h.call("POST", `${A}/users/${id}/apiKeys`, { body: { apiKey: {} } })),
          h.call("DELETE", `${A}/users/${id}`),
        ]);
        assert.deepEqual(results.map((r) => r.status).filter((s) => s !== 200 && s !== 404), [], `round ${round}`);
        const keys = await h.deps.store.db.selectFrom("api_keys").select("id").where("user_id", "=", id).execute();
        assert.deepEqual(keys, []);
      }
    });

    test("bug: updating a user while it was being deleted answered 200 and audited a change made to no row", async () => {
      for (let round = 0; round < 15; round++) {
        const id = `update-race-${round}`;
        assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
        const results = await Promise.all([
          ...Array.from({ length: 5 }, (_, i) => h.call("PATCH", `${A}/users/${id}`, { body: { displayName: `n${i}` } })),
          h.call("DELETE", `${A}/users/${id}`),
        ]);
        assert.deepEqual(results.map((r) => r.status).filter((s) => s !== 200 && s !== 404), [], `round ${round}`);
        const entries = await h.deps.store.db
          .selectFrom("audit_logs")
          .select(["method", "timestamp"])
          .where("resource", "=", `accounts/my-account/users/${id}`)
          .where("status_code", "=", 0)
          .execute();
        const deletedAt = entries.find((e) => e.method === "DeleteUser")!.timestamp;
        assert.deepEqual(entries.filter((e) => e.timestamp > deletedAt).map((e) => e.method), [], `round ${round}: no success after the deletion`);
      }
    });
  });
}
