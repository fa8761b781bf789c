import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";

async function counts(h: TestHearth): Promise<{ users: number; keys: number; audit: number }> {
  const db = h.deps.store.db;
  const n = async (table: "users" | "api_keys" | "audit_logs", where?: [string, string]) => {
    let q = db.selectFrom(table).select((eb) => eb.fn.countAll().as("n"));
    if (where) q = q.where(where[0] as never, "=", where[1] as never);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  // Only successful changes count: refusals are audited too, with a non-zero status.
  const ok = Number(
    (
      await db
        .selectFrom("audit_logs")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("status_code", "=", 0)
        .executeTakeFirstOrThrow()
    ).n,
  );
  return { users: await n("users"), keys: await n("api_keys"), audit: ok };
}

for (const dialect of DIALECTS) {
  describe(`bad input gets a 400 naming the problem and changes nothing (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_BODY_LIMIT: "4096" });
    });
    after(() => h.stop());

    const CASES: Array<[string, () => Promise<{ status: number; body: any }>, number, RegExp]> = [
      [
        "malformed JSON",
        () => h.call("POST", `${A}/users?userId=x`, { body: '{"serviceAccount": tru', headers: { "content-type": "application/json" } }),
        400,
        /malformed JSON body/,
      ],
      ["an invalid id", () => h.call("POST", `${A}/users?userId=Not_Valid`, { body: { serviceAccount: true } }), 400, /invalid userId "Not_Valid"/],
      ["an invalid id in the path", () => h.call("GET", `${A}/users/Bad_Id`), 400, /invalid user id "Bad_Id": use 1-63 lowercase/],
      ["an unknown role", () => h.call("POST", `${A}/users?userId=x`, { body: { serviceAccount: true, role: "owner" } }), 400, /unknown role "owner"/],
      [
        "the custom role without presets",
        () => h.call("POST", `${A}/users?userId=x`, { body: { serviceAccount: true, role: "custom" } }),
        400,
        /role "custom"/,
      ],
      [
        "a JSON null body",
        () => h.call("POST", `${A}/users?userId=x`, { body: "null", headers: { "content-type": "application/json" } }),
        400,
        /invalid request body: .*null/,
      ],
      ["a wrongly typed field", () => h.call("POST", `${A}/users?userId=x`, { body: { serviceAccount: "yes" } }), 400, /field "serviceAccount"/],
      ["a service account without userId", () => h.call("POST", `${A}/users`, { body: { serviceAccount: true } }), 400, /userId is required/],
      ["a human without email", () => h.call("POST", `${A}/users`, { body: { role: "user" } }), 400, /email is required/],
      ["a human without role", () => h.call("POST", `${A}/users`, { body: { email: "r@example.com" } }), 400, /role is required/],
      ["a bad email", () => h.call("POST", `${A}/users`, { body: { email: "nope", role: "user" } }), 400, /invalid email "nope"/],
      ["a long display name", () => h.call("POST", `${A}/users?userId=x`, { body: { serviceAccount: true, displayName: "d".repeat(64) } }), 400, /displayName/],
      ["a bad filter", () => h.call("GET", `${A}/users?filter=${encodeURIComponent("role=")}`), 400, /invalid filter: .* at position 6/],
      ["an unknown filter field", () => h.call("GET", `${A}/users?filter=${encodeURIComponent("colour=red")}`), 400, /unknown field 'colour'/],
      ["a filter value of the wrong type", () => h.call("GET", `${A}/users?filter=${encodeURIComponent("service_account=maybe")}`), 400, /true or false/],
      ["pageSize=-1", () => h.call("GET", `${A}/users?pageSize=-1`), 400, /pageSize/],
      ["pageSize=abc", () => h.call("GET", `${A}/users?pageSize=abc`), 400, /pageSize/],
      ["a forged pageToken", () => h.call("GET", `${A}/users?pageToken=abc`), 400, /invalid pageToken/],
      ["a bad orderBy", () => h.call("GET", `${A}/users?orderBy=${encodeURIComponent("password desc")}`), 400, /invalid orderBy/],
      ["a bad readMask", () => h.call("GET", `${A}/users?readMask=secret`), 400, /"readMask": unknown field "secret"/],
      ["a bad updateMask", () => h.call("PATCH", `${A}/users/admin-example-com?updateMask=email`, { body: { role: "user" } }), 400, /updateMask/],
      [
        "an oversized body",
        () => h.call("POST", `${A}/users?userId=x`, { body: { serviceAccount: true, displayName: "x".repeat(5000) } }),
        400,
        /larger than the limit of 4096 bytes/,
      ],
      ["a bad expireTime", () => h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: { expireTime: "tomorrow" } } }), 400, /RFC 3339/],
      [
        "an expireTime in the past",
        () => h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: { expireTime: "2001-01-01T00:00:00Z" } } }),
        400,
        /in the future/,
      ],
      ["a bad audit startTime", () => h.call("GET", `${A}/auditLogs?startTime=yesterday`), 400, /startTime/],
      [
        "an inverted audit time range",
        () => h.call("GET", `${A}/auditLogs?startTime=2026-02-01T00:00:00Z&endTime=2026-01-01T00:00:00Z`),
        400,
        /before endTime/,
      ],
      ["a quota above its maximum", () => h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: 101 } }), 400, /exceeds its maxValue 100/],
      ["a negative quota", () => h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: -1 } }), 400, /value/],
      ["an unknown quota", () => h.call("GET", `${A}/quotas/gpus`), 404, /quota "gpus" not found/],
      ["an unknown route", () => h.call("GET", "/v1/nothing"), 404, /no route for GET \/v1\/nothing/],
    ];

    for (const [what, send, status, message] of CASES) {
      test(`${what} → ${status}`, async () => {
        const before = await counts(h);
        const res = await send();
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.error.status, status === 404 ? "NOT_FOUND" : "INVALID_ARGUMENT");
        assert.equal(res.body.error.code, status);
        assert.match(res.body.error.message, message);
        assert.deepEqual(await counts(h), before, "nothing stored, no successful audit entry");
      });
    }

    test("a duplicate id is 409 and leaves one row and one successful audit entry", async () => {
      const first = await h.call("POST", `${A}/users?userId=dup`, { body: { serviceAccount: true } });
      assert.equal(first.status, 200);
      const before = await counts(h);
      const second = await h.call("POST", `${A}/users?userId=dup`, { body: { serviceAccount: true } });
      assert.equal(second.status, 409);
      assert.equal(second.body.error.status, "ALREADY_EXISTS");
      assert.match(second.body.error.message, /user "dup" already exists/);
      assert.deepEqual(await counts(h), before);
    });

    test("a human user's clash names what clashed: the id, or the email under another id; the service-account count is unchanged", async () => {
      const first = await h.call("POST", `${A}/users?userId=ada`, { body: { email: "ada@example.com", role: "user" } });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const quota = async () => (await h.call("GET", `${A}/quotas/service-accounts`)).body.usage;
      const usage = await quota();
      const before = await counts(h);
      const sameId = await h.call("POST", `${A}/users?userId=ada`, { body: { email: "other@example.com", role: "user" } });
      assert.equal(sameId.status, 409);
      assert.equal(sameId.body.error.message, 'user "ada" already exists');
      const sameEmail = await h.call("POST", `${A}/users?userId=ada-2`, { body: { email: "ada@example.com", role: "user" } });
      assert.equal(sameEmail.status, 409);
      assert.equal(sameEmail.body.error.message, 'a user with email "ada@example.com" already exists');
      // A service account whose id is taken by a human: refused, and the kept count does not move.
      const saOverHuman = await h.call("POST", `${A}/users?userId=ada`, { body: { serviceAccount: true } });
      assert.equal(saOverHuman.status, 409);
      assert.deepEqual(await counts(h), before, "nothing stored, no successful audit entry");
      assert.equal(await quota(), usage);
    });

    test("the last admin cannot be demoted or deleted", async () => {
      const demote = await h.call("PATCH", `${A}/users/admin-example-com`, { body: { role: "user" } });
      assert.equal(demote.status, 400);
      assert.equal(demote.body.error.status, "FAILED_PRECONDITION");
      assert.match(demote.body.error.message, /last admin/);
      assert.equal((await h.call("DELETE", `${A}/users/admin-example-com`)).status, 400);
    });

    test("a 500 never carries internal detail", async () => {
      // Make the store fail underneath a request by closing the database out from under it.
      const broken = await startHearth(dialect);
      const key = broken.adminKey;
      await broken.deps.store.close();
      const res = await broken.call("GET", `${A}/users`, { key });
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, {
        error: {
          code: 500,
          status: "INTERNAL",
          message: "internal error",
          details: [{ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: res.headers["x-request-id"] }],
        },
      });
      await broken.stop().catch(() => undefined);
    });
  });
}
