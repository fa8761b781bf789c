import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`the audit log (${dialect})`, () => {
    let h: TestHearth;
    let botKey: string;
    before(async () => {
      h = await startHearth(dialect);
      botKey = (await serviceAccountWithKey(h, "bot", "contributor")).key;
      await h.call("POST", `${A}/users/bot/apiKeys`, { key: botKey, body: { apiKey: { displayName: "own" } } });
      await h.call("POST", `${A}/users?userId=nope`, { key: botKey, body: { serviceAccount: true } }); // refused
      for (let i = 0; i < 12; i++) await h.call("POST", `${A}/users?userId=sa-${i}`, { body: { serviceAccount: true } });
    });
    after(() => h.stop());

    test("every change is recorded with the principal's email, method, resource and key", async () => {
      const res = await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent('resource="accounts/my-account/users/bot"')}&pageSize=50`);
      assert.equal(res.status, 200);
      const create = res.body.auditLogs.find((e: any) => e.method === "CreateUser");
      assert.ok(create);
      assert.equal(create.principal, "admin@example.com");
      assert.equal(create.message, "CreateUser");
      assert.equal(create.status.code, "OK");
      assert.equal(create.isAdminAction, true);
      assert.deepEqual(create.payload, { serviceAccount: true, role: "contributor", userId: "bot" });
      assert.match(create.apiKeyId, /^[a-z][a-z0-9]{15}$/);
      const own = res.body.auditLogs.find((e: any) => e.method === "CreateApiKey" && e.principal === "bot@my-account.sa.hearth.local");
      assert.ok(own, "the service account appears by its generated email");
      assert.equal(own.isAdminAction, false);
    });

    test("entries are newest first and pages return each entry exactly once", async () => {
      const seen: string[] = [];
      let token = "";
      let total = -1;
      let pages = 0;
      do {
        const res = await h.call("GET", `${A}/auditLogs?pageSize=5${token ? `&pageToken=${token}` : ""}`);
        assert.equal(res.status, 200);
        total = res.body.totalSize;
        seen.push(...res.body.auditLogs.map((e: any) => e.id));
        const times = res.body.auditLogs.map((e: any) => e.timestamp);
        assert.deepEqual(times, [...times].sort().reverse());
        token = res.body.nextPageToken;
        pages++;
      } while (token);
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total);
      assert.ok(pages >= 4);
    });

    test("the default page is 10 entries", async () => {
      const res = await h.call("GET", `${A}/auditLogs`);
      assert.equal(res.body.auditLogs.length, 10);
      assert.ok(res.body.nextPageToken);
    });

    test("filters: message, resource substring, email, AND/OR", async () => {
      const byMessage = await h.call("GET", `${A}/auditLogs?pageSize=200&filter=${encodeURIComponent('message="CreateUser" AND resource:"sa-1"')}`);
      assert.deepEqual(byMessage.body.auditLogs.map((e: any) => e.resource).sort(), [
        `accounts/my-account/users/sa-1`,
        `accounts/my-account/users/sa-10`,
        `accounts/my-account/users/sa-11`,
      ]);
      const byEmail = await h.call("GET", `${A}/auditLogs?pageSize=200&email=bot@my-account.sa.hearth.local`);
      assert.ok(byEmail.body.auditLogs.length >= 2);
      assert.ok(byEmail.body.auditLogs.every((e: any) => e.principal === "bot@my-account.sa.hearth.local"));
      const either = await h.call(
        "GET",
        `${A}/auditLogs?pageSize=200&filter=${encodeURIComponent('resource="accounts/my-account/users/sa-0" OR resource="accounts/my-account/users/sa-1"')}`,
      );
      assert.equal(either.body.totalSize, 2);
    });

    test("the time range bounds the entries", async () => {
      const future = await h.call("GET", `${A}/auditLogs?startTime=2099-01-01T00:00:00Z&endTime=2099-02-01T00:00:00Z`);
      assert.equal(future.body.totalSize, 0);
      const past = await h.call("GET", `${A}/auditLogs?startTime=2000-01-01T00:00:00Z`);
      assert.ok(past.body.totalSize > 12);
    });

    test("a non-admin sees only its own entries, and never admin actions", async () => {
      const res = await h.call("GET", `${A}/auditLogs?pageSize=200`, { key: botKey });
      assert.equal(res.status, 200);
      assert.ok(res.body.auditLogs.length >= 1);
      for (const e of res.body.auditLogs) {
        assert.equal(e.principal, "bot@my-account.sa.hearth.local");
        assert.equal(e.isAdminAction, false);
      }
      // Its own refused CreateUser attempt is an admin action: hidden from it, visible to admins.
      assert.ok(!res.body.auditLogs.some((e: any) => e.method === "CreateUser"));
      const admin = await h.call(
        "GET",
        `${A}/auditLogs?pageSize=200&filter=${encodeURIComponent('message="CreateUser" AND email="bot@my-account.sa.hearth.local"')}`,
      );
      assert.equal(admin.body.auditLogs.length, 1);
      assert.equal(admin.body.auditLogs[0].status.code, "PERMISSION_DENIED");
    });

    test("a failed change has exactly its refusal entry and no change", async () => {
      const dup = await h.call("POST", `${A}/users?userId=sa-0`, { body: { serviceAccount: true } });
      assert.equal(dup.status, 409);
      const entries = await h.call(
        "GET",
        `${A}/auditLogs?pageSize=200&filter=${encodeURIComponent('resource="accounts/my-account/users/sa-0" AND message="CreateUser"')}`,
      );
      assert.deepEqual(entries.body.auditLogs.map((e: any) => e.status.code).sort(), ["ALREADY_EXISTS", "OK"]);
    });

    test("filters select on status.code by its google.rpc name, OK included; a name that is not one is a 400 listing them", async () => {
      const list = (filter: string) =>
        h.call("GET", `${A}/auditLogs?pageSize=200&filter=${encodeURIComponent(`resource="accounts/my-account/users/sa-0" AND ${filter}`)}`);
      const codes = async (filter: string) => {
        const res = await list(filter);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body.auditLogs.map((e: any) => e.status.code).sort();
      };
      assert.deepEqual(await codes('status.code="ALREADY_EXISTS"'), ["ALREADY_EXISTS"]);
      assert.deepEqual(await codes("status.code:ALREADY_EXISTS"), ["ALREADY_EXISTS"]);
      assert.deepEqual(await codes('status.code="OK"'), ["OK"]);
      assert.deepEqual(await codes('status.code!="OK"'), ["ALREADY_EXISTS"]);
      assert.deepEqual(await codes('status.code="PERMISSION_DENIED"'), []);
      // `_` is a name's letter, not a LIKE wildcard: ALREADY_EXISTS is not matched by a look-alike.
      assert.deepEqual(await codes('NOT status.code="ALREADY_EXISTS"'), ["OK"]);
      const unknown = await list('status.code="DENIED"');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /field 'status\.code' takes one of OK, INVALID_ARGUMENT, .*, DEADLINE_EXCEEDED, not "DENIED"/);
      const ordered = await list('status.code>"A"');
      assert.equal(ordered.status, 400);
      assert.match(ordered.body.error.message, /'>' does not apply to field 'status\.code': use =, != or :/);
    });
  });
}
