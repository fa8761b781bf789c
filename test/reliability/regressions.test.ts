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

    test("bug: a path segment over 100 characters got Fastify's own 414 body, echoing the path, instead of Hearth's error", async () => {
      for (const url of [`${A}/users/${"a".repeat(101)}`, `/auth/link/${"t".repeat(150)}`]) {
        const res = await h.call("GET", url);
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, {
          error: {
            code: 400,
            status: "INVALID_ARGUMENT",
            message: "invalid URL: a path segment is longer than 100 characters",
            details: [{ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: res.headers["x-request-id"] }],
          },
        });
      }
      const bad = await h.call("GET", `${A}/users/%E0%A4%A`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.status, "INVALID_ARGUMENT");
    });

    test('bug: a missing body field was described as "expected string, received undefined"', async () => {
      const res = await h.call("POST", `${A}/users/admin-example-com/apiKeys:delete`, { body: {} });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.message, 'missing request body field "keyId" (expected string)');
      const chat = await h.call("POST", "/inference/v1/chat/completions", { body: { model: "accounts/fireworks/models/x" } });
      assert.equal(chat.body.error.message, 'missing request body field "messages" (expected array)');
    });

    test('bug: pageSize=abc was described as "expected number, received NaN"', async () => {
      for (const value of ["abc", "-1", "1.5", "1e400"]) {
        const res = await h.call("GET", `${A}/users?pageSize=${value}`);
        assert.equal(res.status, 400);
        assert.equal(
          res.body.error.message,
          'invalid query parameter field "pageSize": must be a whole number in decimal digits, 0 (the default) or more; above 200 counts as 200',
        );
      }
    });

    test("bug: a NUL character (U+0000) in a JSON body or the URL answered 500 on PostgreSQL and was stored on SQLite", async () => {
      const cases: Array<[string, string, unknown]> = [
        ["POST", `${A}/users?userId=nul`, { serviceAccount: true, displayName: "a\u0000b" }],
        ["POST", `${A}/datasets?datasetId=nul`, { displayName: "\u0000" }],
        ["GET", `${A}/users?filter=${encodeURIComponent('display_name="\u0000"')}`, undefined],
        ["GET", `${A}/auditLogs?email=a%00`, undefined],
        ["GET", "/v1/accounts/%00/users", undefined],
      ];
      for (const [method, url, body] of cases) {
        for (const key of [h.adminKey, "not-a-key"]) {
          const res = await h.call(method, url, { key, ...(body !== undefined ? { body } : {}) });
          assert.equal(res.status, 400, `${method} ${url}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.error.message, /must not contain the NUL character/);
        }
      }
      assert.equal((await h.call("GET", `${A}/users/nul`)).status, 404, "nothing was stored");
    });

    test("bug: creating an API key while its owner was being deleted answered 500 (a foreign-key failure on PostgreSQL)", async () => {
      for (let round = 0; round < 15; round++) {
        const id = `key-race-${round}`;
        assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
        const results = await Promise.all([
          ...Array.from({ length: 5 }, () => h.call("POST", `${A}/users/${id}/apiKeys`, { body: { apiKey: {} } })),
          h.call("DELETE", `${A}/users/${id}`),
        ]);
        assert.deepEqual(
          results.map((r) => r.status).filter((s) => s !== 200 && s !== 404),
          [],
          `round ${round}`,
        );
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
        assert.deepEqual(
          results.map((r) => r.status).filter((s) => s !== 200 && s !== 404),
          [],
          `round ${round}`,
        );
        const entries = await h.deps.store.db
          .selectFrom("audit_logs")
          .select(["method", "timestamp"])
          .where("resource", "=", `accounts/my-account/users/${id}`)
          .where("status_code", "=", 0)
          .execute();
        const deletedAt = entries.find((e) => e.method === "DeleteUser")!.timestamp;
        assert.deepEqual(
          entries.filter((e) => e.timestamp > deletedAt).map((e) => e.method),
          [],
          `round ${round}: no success after the deletion`,
        );
      }
    });
  });
}
