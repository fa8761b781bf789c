import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { blockAuditWrites } from "./support/audit-entries.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";

/**
 * Strict request bodies (unknown fields refused, proto names accepted, output-only fields ignored,
 * immutable fields accepted only unchanged) and the one refusal entry per refused request, in the
 * caller's own account; a failing audit write rolls the change back with 503.
 */
const A = "/v1/accounts/my-account";
const FUTURE = "2036-11-29T09:06:15Z";

for (const dialect of DIALECTS) {
  describe(`strict bodies and audited refusals (${dialect})`, () => {
    let h: TestHearth;
    let X = "";
    let botKey = "";
    before(async () => {
      h = await startHearth(dialect);
      X = `${A}/users/${await human(h, "x@example.com", "user")}`;
      botKey = (await serviceAccountWithKey(h, "etl-bot", "user")).key;
    });

    /** Sends one request and checks that the entries of operation `rpc` grew by exactly one, with `status`; returns the newest. */
    async function auditedOnce(rpc: string, status: number, send: () => Promise<{ status: number; body: any }>) {
      const before = (await auditEntries(h, `method="${rpc}"`)).length;
      const res = await send();
      assert.equal(res.status, status, `${rpc}: ${JSON.stringify(res.body)}`);
      const entries = await auditEntries(h, `method="${rpc}"`);
      assert.equal(entries.length, before + 1, `${rpc} answered ${status} is audited once`);
      assert.equal(entries[0].status.code, status === 200 ? "OK" : res.body.error.status);
      return { res, entry: entries[0] };
    }
    after(() => h.stop());

    test("a proto (snake_case) field name means the same as its JSON name: expire_time sets expireTime", async () => {
      const snake = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { displayName: "snake", expire_time: FUTURE } } });
      assert.equal(snake.status, 200, JSON.stringify(snake.body));
      assert.equal(snake.body.expireTime, "2036-11-29T09:06:15.000Z");
      const camel = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { display_name: "camel", expireTime: FUTURE } } });
      assert.equal(camel.status, 200, JSON.stringify(camel.body));
      assert.equal(camel.body.displayName, "camel");
      assert.equal(camel.body.expireTime, snake.body.expireTime);
      // The issue's own value (now in the past): refused naming the field, never a key without expiry.
      const past = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { displayName: "snake", expire_time: "2026-11-29T09:06:15Z" } } });
      if (past.status === 200) assert.equal(past.body.expireTime, "2026-11-29T09:06:15.000Z");
      else assert.match(past.body.error.message, /expireTime/);
    });

    test("a field the body does not have is a 400 naming it, and nothing is created", async () => {
      const before = (await h.call("GET", `${A}/users/etl-bot/apiKeys`)).body.apiKeys.length;
      const flat = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { displayName: "flat", expireTime: FUTURE } });
      assert.equal(flat.status, 400);
      assert.match(flat.body.error.message, /unknown field "displayName" in the request body/);
      const nested = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { displayName: "x", expiresAt: FUTURE } } });
      assert.equal(nested.status, 400);
      assert.match(nested.body.error.message, /unknown field "expiresAt" in apiKey/);
      const twice = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { displayName: "a", display_name: "b" } } });
      assert.equal(twice.status, 400);
      assert.match(twice.body.error.message, /"displayName" is given twice/);
      const bidi = await h.call("POST", `${A}/users/etl-bot/apiKeys`, { body: { apiKey: { "evil\u202e": 1 } } });
      assert.equal(bidi.status, 400);
      assert.ok(bidi.body.error.message.includes('unknown field "evil\\u202e" in apiKey'), bidi.body.error.message);
      assert.equal((await h.call("GET", `${A}/users/etl-bot/apiKeys`)).body.apiKeys.length, before);
    });

    test("PATCH a user: unknown and changed immutable fields are refused; a resource read back is accepted", async () => {
      const original = (await h.call("GET", X)).body;
      const rol = await h.call("PATCH", X, { body: { rol: "admin" } });
      assert.equal(rol.status, 400);
      assert.match(rol.body.error.message, /unknown field "rol"/);
      const email = await h.call("PATCH", X, { body: { email: "evil@example.com" } });
      assert.equal(email.status, 400);
      assert.match(email.body.error.message, /field "email" is immutable/);
      const sa = await h.call("PATCH", `${A}/users/etl-bot`, { body: { serviceAccount: false } });
      assert.equal(sa.status, 400);
      assert.match(sa.body.error.message, /field "serviceAccount" is immutable/);
      const after = (await h.call("GET", X)).body;
      assert.equal(after.updateTime, original.updateTime, "a refused PATCH changes nothing");
      // Unchanged immutable fields and output-only fields, as Fireworks' SDK sends them back.
      const same = await h.call("PATCH", X, { body: { ...original, serviceAccount: undefined, service_account: original.serviceAccount, displayName: "X" } });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.equal(same.body.displayName, "X");
      assert.equal(same.body.email, "x@example.com");
    });

    test("every refusal class on an account route leaves exactly one entry in the caller's account", async () => {
      // Each case is a refusal of operation `rpc`: the entries of that method grow by exactly one.
      const cases: [string, string, unknown, number, string][] = [
        ["PATCH", `${X}?updateMask=email`, { displayName: "a" }, 400, "UpdateUser"],
        ["PATCH", `${X}?updateMask=bogus`, { displayName: "a" }, 400, "UpdateUser"],
        ["PATCH", X, { role: 5 }, 400, "UpdateUser"],
        ["PATCH", X, { rol: "admin" }, 400, "UpdateUser"],
        ["PATCH", X, '{"role": ', 400, "UpdateUser"],
        ["GET", `${A}/users/nobody`, undefined, 404, "GetUser"],
        ["POST", `${A}/users`, { email: "x@example.com", role: "user" }, 409, "CreateUser"],
      ];
      for (const [method, url, body, status, rpc] of cases) {
        const headers: Record<string, string> = typeof body === "string" ? { "content-type": "application/json" } : {};
        const { res } = await auditedOnce(rpc, status, () => h.call(method, url, body === undefined ? {} : { body, headers }));
        if (typeof body === "string") assert.match(res.body.error.message, /malformed JSON body/);
      }
      // 403: a `user`-role key doing an admin's act; the entry names the caller.
      const denied = await auditedOnce("CreateUser", 403, () =>
        h.call("POST", `${A}/users?userId=made-by-bot`, { key: botKey, body: { serviceAccount: true, role: "admin" } }),
      );
      assert.equal(denied.entry.principal, "etl-bot@my-account.sa.hearth.local");
      // 429: the service-accounts quota set to what is in use.
      const inUse = (await h.call("GET", `${A}/quotas/service-accounts`)).body.usage;
      assert.equal((await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: inUse } })).status, 200);
      try {
        const over = await auditedOnce("CreateUser", 429, () =>
          h.call("POST", `${A}/users?userId=one-too-many`, { body: { serviceAccount: true, role: "user" } }),
        );
        assert.match(over.res.body.error.message, /quota "service-accounts" exceeded/);
      } finally {
        assert.equal((await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: 100 } })).status, 200);
      }
    });

    test("a change made with a session cookie without CSRF proof is one entry in the caller's account, naming the person", async () => {
      const link = await createSigninLink(h.deps, "my-account", "x@example.com");
      const signedIn = await h.call("GET", new URL(link.url).pathname, { key: null });
      const cookie = ([] as unknown[])
        .concat(signedIn.headers["set-cookie"])
        .map(String)
        .find((c) => c.startsWith("hearth_session="))!
        .split(";")[0]!;
      const original = (await h.call("GET", X)).body.displayName;
      const { res, entry } = await auditedOnce("UpdateUser", 403, () =>
        h.call("PATCH", X, { key: null, headers: { cookie }, body: { displayName: "forged" } }),
      );
      assert.match(res.body.error.message, /x-csrf-token/);
      assert.equal(entry.principal, "x@example.com");
      assert.equal(entry.resource, X.slice("/v1/".length));
      assert.equal((await h.call("GET", X)).body.displayName, original, "nothing was changed");
    });

    test("every change on an account route leaves exactly one entry", async () => {
      const U = `${A}/users/changed-bot`;
      const changes: [string, string, unknown, string][] = [
        ["POST", `${A}/users?userId=changed-bot`, { serviceAccount: true, role: "user" }, "CreateUser"],
        ["PATCH", `${U}?updateMask=displayName`, { displayName: "Changed" }, "UpdateUser"],
        ["POST", `${U}/apiKeys`, { apiKey: { displayName: "k" } }, "CreateApiKey"],
        ["PATCH", `${A}/quotas/deployments`, { value: 15 }, "UpdateQuota"],
        ["DELETE", U, undefined, "DeleteUser"],
      ];
      for (const [method, url, body, rpc] of changes) {
        const { entry } = await auditedOnce(rpc, 200, () => h.call(method, url, body === undefined ? {} : { body }));
        assert.equal(entry.principal, "admin@example.com");
      }
    });

    test("regression: a method that takes no body refuses one holding a field (audited once) and changes nothing; none, an empty one or {} is served", async () => {
      assert.equal((await h.call("POST", `${A}/users?userId=sa1`, { body: { serviceAccount: true, role: "user" } })).status, 200);
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=p7`, { body: { actions: ["models.list"] } })).status, 200);
      const revoke = await auditedOnce("RevokeSessions", 400, () => h.call("POST", `${A}/users/sa1:revokeSessions`, { body: { x: 1 } }));
      assert.equal(revoke.res.body.error.message, 'unknown field "x" in the request body (it takes none)');
      const remove = await auditedOnce("DeletePermissionPreset", 400, () => h.call("DELETE", `${A}/permissionPresets/p7`, { body: { force: true } }));
      assert.match(remove.res.body.error.message, /unknown field "force" in the request body/);
      const notObject = await auditedOnce("DeletePermissionPreset", 400, () => h.call("DELETE", `${A}/permissionPresets/p7`, { body: ["p7"] }));
      assert.match(notObject.res.body.error.message, /invalid request body: .*expected object, received array/);
      const get = await auditedOnce("GetPermissionPreset", 400, () => h.call("GET", `${A}/permissionPresets/p7`, { body: { readMask: "name" } }));
      assert.equal(get.res.body.error.message, "a GET takes no request body: send its parameters in the query");
      const upload = await h.call("DELETE", `${A}/permissionPresets/p7`, { body: "{}", headers: { "content-type": "application/jsonl" } });
      assert.equal(upload.status, 400);
      assert.equal((await h.call("GET", `${A}/permissionPresets/p7`)).status, 200, "a refused delete deletes nothing");
      // No body, an empty one with a JSON Content-Type, and `{}` (Google's clients on a custom method).
      assert.equal((await h.call("POST", `${A}/users/sa1:revokeSessions`)).status, 200);
      assert.equal((await h.call("POST", `${A}/users/sa1:revokeSessions`, { body: "", headers: { "content-type": "application/json" } })).status, 200);
      assert.equal((await h.call("POST", `${A}/users/sa1:revokeSessions`, { body: {} })).status, 200);
      assert.equal((await h.call("DELETE", `${A}/permissionPresets/p7`, { body: "", headers: { "content-type": "application/json" } })).status, 200);
    });

    test("a bad credential wins over a bad body (401), and another account's 404 is written in the caller's own account", async () => {
      const res = await h.call("PATCH", X, { key: "hk_notakey", body: '{"role": ', headers: { "content-type": "application/json" } });
      assert.equal(res.status, 401);
      const otherKey = await otherAccount(h);
      const before = (await auditEntries(h, 'method="GetUser"')).length;
      const cross = await h.call("GET", X, { key: otherKey });
      assert.equal(cross.status, 404);
      assert.equal((await auditEntries(h, 'method="GetUser"')).length, before, "nothing is written into the account named in the path");
      const own = await h.call("GET", `/v1/accounts/other-account/auditLogs?pageSize=200&filter=${encodeURIComponent('method="GetUser"')}`, { key: otherKey });
      assert.equal(own.status, 200);
      assert.deepEqual(
        own.body.auditLogs.map((e: { resource: string }) => e.resource),
        [X.slice("/v1/".length)],
      );
    });

    test("an error body carries the request id (google.rpc.RequestInfo), the same as the x-request-id header", async () => {
      for (const [method, url, key] of [
        ["PATCH", X, undefined],
        ["GET", `${A}/users/nobody`, undefined],
        ["GET", `${A}/users`, "hk_notakey"],
        ["GET", "/v1/no/such/route", undefined],
      ] as const) {
        const res = await h.call(method, url, {
          ...(key ? { key } : {}),
          body: method === "PATCH" ? { rol: "admin" } : undefined,
          headers: { "x-request-id": `req-${method}-1` },
        });
        assert.ok(res.status >= 400, url);
        assert.equal(res.headers["x-request-id"], `req-${method}-1`);
        assert.deepEqual(res.body.error.details, [{ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: `req-${method}-1` }], url);
      }
    });

    test("an OpenAI-compatible route writes every error in OpenAI's shape, as its declaration says, and the document names it", async () => {
      const malformed = await h.call("POST", "/inference/v1/chat/completions", { body: '{"model": ', headers: { "content-type": "application/json" } });
      assert.equal(malformed.status, 400);
      assert.deepEqual(Object.keys(malformed.body.error).sort(), ["code", "message", "param", "type"]);
      assert.equal(malformed.body.error.type, "invalid_request_error");
      assert.match(malformed.body.error.message, /malformed JSON body/);
      const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
      const errorOf = (path: string, method: string) => doc.paths[path][method].responses.default.content["application/json"].schema.$ref;
      assert.equal(errorOf("/inference/v1/chat/completions", "post"), "#/components/schemas/OpenAIError");
      assert.equal(errorOf("/v1/accounts/{accountId}/users", "post"), "#/components/schemas/Error");
    });

    test("regression (fuzzer): a list refuses a bad parameter beside its own transformed ones with a 400, never a 500", async () => {
      const long = "a".repeat(257);
      for (const path of [`${A}/auditLogs?orderBy=${long}&startTime=1970-01-01T00:00:00.000Z`, `${A}/deployments?orderBy=${long}&showDeleted=true`]) {
        const res = await h.call("GET", path);
        assert.equal(res.status, 400, `${path.slice(0, 60)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /"orderBy": must be at most 256 characters long$/);
      }
      const ranged = await h.call("GET", `${A}/auditLogs?startTime=1970-01-01T00:00:00.000Z&pageSize=1`);
      assert.equal(ranged.status, 200, "the time range still applies");
    });

    test("a path no route declares is a 404 in OpenAI's shape under the /inference/ mount, in google.rpc's elsewhere", async () => {
      for (const path of ["/inference/v1/responses", "/inference/", "/inference/v1/models/../.."]) {
        const res = await h.call("POST", path, { body: {} });
        assert.equal(res.status, 404, path);
        assert.equal(res.body.error.type, "not_found_error", `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, "unknown_url");
        assert.match(res.body.error.message, /no route for POST \/inference\//);
      }
      const controlPlane = await h.call("POST", "/v1/responses", { body: {} });
      assert.equal(controlPlane.status, 404);
      assert.equal(controlPlane.body.error.status, "NOT_FOUND");
    });

    test("when the audit log cannot be written, the change is rolled back and the answer is 503", async () => {
      const unblock = await blockAuditWrites(h.deps.store);
      try {
        const res = await h.call("POST", `${A}/users?userId=rolled-back`, { body: { serviceAccount: true, role: "user" } });
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.equal(res.body.error.status, "UNAVAILABLE");
        assert.match(res.body.error.message, /audit log could not be written; nothing was changed/);
        const refused = await h.call("PATCH", X, { body: { rol: "admin" } });
        assert.equal(refused.status, 503, "an unrecordable refusal is not answered as if it were recorded");
      } finally {
        await unblock();
      }
      assert.equal((await h.call("GET", `${A}/users/rolled-back`)).status, 404, "the change was rolled back with its entry");
    });
  });
}
