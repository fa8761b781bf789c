import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { randomUUID } from "node:crypto";
import { generateKey } from "../src/domain/api-key-format.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, mistyped, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * "Every refusal of an authenticated request is one audit entry" held for refusals the routes make,
 * not for those the framework makes before a route runs: a body over the limit (declared or
 * chunked), on the control plane or the inference gateway, was answered 400 and left no entry. Now
 * it is audited in the caller's account; with a bad credential, the credential's refusal wins.
 *
 * Nor for the refusals made before routing: no route (404), a method the path does not take (405),
 * a URL holding NUL or not percent-encoded UTF-8 (400) were answered and left no entry, with a valid
 * admin key. Now each is one entry in the caller's own account (whatever account the path names),
 * and is answered the same whatever the credential; a credential that does not authenticate writes
 * no entry anywhere.
 */
const LIMIT = 4096;
const A = "/v1/accounts/my-account";
/** The operation a refusal is audited as when no route took the request. */
const UNROUTED = "UnroutedRequest";

/** A raw POST (chunked when `chunked`), so that the body may exceed what the server takes. */
function post(h: TestHearth, path: string, key: string | undefined, body: string, chunked = false): Promise<{ status: number; text: string }> {
  const url = new URL(path, h.baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    if (!chunked) headers["content-length"] = String(Buffer.byteLength(body));
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (const dialect of DIALECTS) {
  describe(`refusals the framework makes are audited (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_BODY_LIMIT: String(LIMIT) });
      await h.listen();
    });
    after(() => h.stop());

    const big = JSON.stringify({ serviceAccount: true, displayName: "x".repeat(LIMIT * 2) });

    test("a body over the limit, declared or chunked, on the control plane and the gateway: 400 and one entry each", async () => {
      const cases: Array<[string, string, boolean, string]> = [
        ["/v1/accounts/my-account/users", big, false, "CreateUser"],
        ["/v1/accounts/my-account/users", big, true, "CreateUser"],
        [
          "/inference/v1/chat/completions",
          JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(LIMIT * 2) }] }),
          false,
          "CreateChatCompletion",
        ],
      ];
      for (const [path, body, chunked, method] of cases) {
        const before = (await auditEntries(h, `method="${method}"`)).length;
        const res = await post(h, path, h.adminKey, body, chunked);
        assert.equal(res.status, 400, res.text);
        assert.match(res.text, new RegExp(`larger than the limit of ${LIMIT} bytes`));
        const entries = await auditEntries(h, `method="${method}"`);
        assert.equal(entries.length, before + 1, `${path} ${chunked ? "chunked" : "declared"}: one entry`);
        assert.equal(entries[0].principal, "admin@example.com");
        assert.match(entries[0].status.message, /larger than the limit/);
      }
    });

    test("with a bad credential the credential's refusal wins, as on every route", async () => {
      const res = await post(h, "/v1/accounts/my-account/users", "hearth_not_a_key", big);
      assert.equal(res.status, 401, res.text);
      const none = await post(h, "/v1/accounts/my-account/users", undefined, big);
      assert.equal(none.status, 401, none.text);
    });

    test("another account's path is the 404 it always is, audited in the caller's account", async () => {
      const res = await post(h, "/v1/accounts/someone-else/users", h.adminKey, big);
      assert.equal(res.status, 404, res.text);
      const [entry] = await auditEntries(h, 'method="CreateUser" AND resource:"someone-else"');
      assert.equal(entry.status.code, "NOT_FOUND");
    });

    /** The entries, in any account, of the request sent with `x-request-id: requestId`. */
    const entriesOf = (requestId: string) =>
      h.deps.store.db
        .selectFrom("audit_logs")
        .select(["account_id", "principal", "method", "resource", "status_code", "status_message", "authentication"])
        .where("request_id", "=", requestId)
        .execute();

    /** Refused before any route's checks, with a valid admin key: the first six are the reproductions, which left no entry. */
    const EARLY: Array<{ method: string; path: string; status: number; message: RegExp; operation: string; resource: string; body?: unknown }> = [
      {
        method: "PUT",
        path: `${A}/users`,
        status: 405,
        message: /PUT is not allowed on \/v1\/accounts\/my-account\/users; it takes GET, HEAD, POST/,
        operation: UNROUTED,
        resource: "accounts/my-account/users",
      },
      { method: "PUT", path: `${A}/users/sa9`, status: 405, message: /PUT is not allowed/, operation: UNROUTED, resource: "accounts/my-account/users/sa9" },
      {
        method: "GET",
        path: `${A}/users?filter=%00`,
        status: 400,
        message: /the URL must not contain the NUL character/,
        operation: "ListUsers",
        resource: "accounts/my-account/users",
      },
      {
        method: "DELETE",
        path: `${A}/users/sa9%00`,
        status: 400,
        message: /the URL must not contain the NUL character/,
        operation: "DeleteUser",
        resource: "accounts/my-account/users/sa9%00",
      },
      {
        method: "GET",
        path: `${A}/users/%ff`,
        status: 400,
        message: /the path is not valid percent-encoded UTF-8/,
        operation: UNROUTED,
        resource: "accounts/my-account/users/%ff",
      },
      {
        method: "GET",
        path: `${A}/bogusCollection`,
        status: 404,
        message: /no route for GET \/v1\/accounts\/my-account\/bogusCollection/,
        operation: UNROUTED,
        resource: "accounts/my-account/bogusCollection",
      },
      // The same family: a path segment over 100 characters, a NUL in a JSON body, a custom method
      // asked with another method (reaching GetWebhook's route first), and the OpenAI mount's 404.
      {
        method: "GET",
        path: `${A}/users/${"x".repeat(101)}`,
        status: 400,
        message: /a path segment is longer than 100 characters/,
        operation: UNROUTED,
        resource: `accounts/my-account/users/${"x".repeat(101)}`,
      },
      {
        method: "POST",
        path: `${A}/users`,
        status: 400,
        message: /the request body must not contain the NUL character/,
        operation: "CreateUser",
        resource: "accounts/my-account/users",
        body: { serviceAccount: true, displayName: "a\u0000b" },
      },
      {
        method: "GET",
        path: `${A}/webhooks/w1:rotateSecret`,
        status: 405,
        message: /GET is not allowed on .*; it takes POST/,
        operation: "GetWebhook",
        resource: "accounts/my-account/webhooks/w1:rotateSecret",
      },
      { method: "GET", path: "/inference/v1/bogus", status: 404, message: /no route for GET \/inference\/v1\/bogus/, operation: UNROUTED, resource: "bogus" },
    ];

    test("refusals before routing, with a valid key: answered as before, one entry each in the caller's account", async () => {
      for (const { method, path, status, message, operation, resource, body } of EARLY) {
        const requestId = randomUUID();
        const res = await h.call(method, path, { headers: { "x-request-id": requestId }, ...(body ? { body } : {}) });
        assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, `${method} ${path}`);
        const entries = await entriesOf(requestId);
        assert.equal(entries.length, 1, `${method} ${path}: one entry`);
        const [entry] = entries;
        assert.equal(entry!.account_id, "my-account");
        assert.equal(entry!.principal, "admin@example.com");
        assert.equal(entry!.status_code, status, `${method} ${path}`);
        assert.match(entry!.status_message, message);
        assert.equal(entry!.method, operation, `${method} ${path}`);
        assert.equal(entry!.resource, resource);
        assert.match(entry!.authentication, /^apiKey:/);
      }
      // Over a socket too: the router's refusal of a URL it cannot decode is answered outside Fastify's request cycle.
      const requestId = randomUUID();
      const res = await fetch(new URL(`${A}/users/%ff`, h.baseUrl), { headers: { authorization: `Bearer ${h.adminKey}`, "x-request-id": requestId } });
      assert.equal(res.status, 400, await res.text());
      assert.equal(res.headers.get("x-request-id"), requestId);
      assert.equal((await entriesOf(requestId)).length, 1);
    });

    test("with a bad key or none, the same answers and no entry anywhere", async () => {
      for (const key of [mistyped(h.adminKey), generateKey().key, "hearth_not_a_key", null]) {
        for (const { method, path, status, body } of EARLY) {
          const requestId = randomUUID();
          const res = await h.call(method, path, { key, headers: { "x-request-id": requestId }, ...(body ? { body } : {}) });
          assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(await entriesOf(requestId), [], `${method} ${path} with ${key === null ? "no key" : "a bad key"}`);
        }
      }
    });

    test("a path naming another account, or no valid account, is audited only in the caller's own", async () => {
      for (const path of [
        "/v1/accounts/someone-else/users",
        "/v1/accounts/someone-else/bogus",
        "/v1/accounts/%ff/users",
        "/v1/accounts/%00/users",
        "/v1/accounts//users/x/y",
      ]) {
        const requestId = randomUUID();
        const res = await h.call("PUT", path, { headers: { "x-request-id": requestId } });
        assert.ok([400, 404, 405].includes(res.status), `${path}: ${res.status} ${JSON.stringify(res.body)}`);
        const entries = await entriesOf(requestId);
        assert.deepEqual(
          entries.map((e) => [e.account_id, e.principal, e.status_code]),
          [["my-account", "admin@example.com", res.status]],
          path,
        );
      }
    });

    test("another account's valid key, on a path naming this account: audited in its own account, never in this one", async () => {
      const otherKey = await otherAccount(h, "other-account");
      for (const { method, path, status, body } of EARLY) {
        const requestId = randomUUID();
        const res = await h.call(method, path, { key: otherKey, headers: { "x-request-id": requestId }, ...(body ? { body } : {}) });
        assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(
          (await entriesOf(requestId)).map((e) => [e.account_id, e.principal, e.status_code]),
          [["other-account", "admin@other-account.example", status]],
          `${method} ${path}`,
        );
      }
    });

    test("a disabled key's refusal is recorded in its own account, as on every path: its 401, not the routing refusal", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "early-disabled");
      const disabled = await h.call("POST", `${A}/users/early-disabled/apiKeys/${keyId}:disable`, { body: { disableReason: "UNUSED" } });
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      const requestId = randomUUID();
      assert.equal((await h.call("PUT", `${A}/users`, { key, headers: { "x-request-id": requestId } })).status, 405);
      const entries = await entriesOf(requestId);
      assert.deepEqual(
        entries.map((e) => [e.account_id, e.method, e.status_code]),
        [["my-account", UNROUTED, 401]],
      );
      assert.match(entries[0]!.status_message, /the API key is disabled/);
    });

    test("a console session's refusals before routing are audited as its user's; an ended session's are not", async () => {
      const link = await createSigninLink(h.deps, "my-account", "admin@example.com");
      const redeemed = await h.call("GET", new URL(link.url).pathname, { key: null });
      assert.equal(redeemed.status, 302);
      const cookie = String(redeemed.headers["set-cookie"]).split(";")[0]!;
      for (const [session, audited] of [
        [cookie, 1],
        [`hearth_session=${"x".repeat(43)}`, 0],
      ] as const) {
        const requestId = randomUUID();
        const res = await h.call("GET", `${A}/bogusCollection`, { key: null, headers: { cookie: session, "x-request-id": requestId } });
        assert.equal(res.status, 404);
        const entries = await entriesOf(requestId);
        assert.equal(entries.length, audited);
        if (audited) assert.deepEqual([entries[0]!.principal, entries[0]!.authentication], ["admin@example.com", "session"]);
      }
      // An API key in x-api-key (as Fireworks' REST guide sends it) is a credential here too.
      const viaHeader = randomUUID();
      const keyed = await h.call("GET", `${A}/bogusCollection`, { key: null, headers: { "x-api-key": h.adminKey, "x-request-id": viaHeader } });
      assert.equal(keyed.status, 404);
      assert.equal((await entriesOf(viaHeader)).length, 1, "x-api-key");
      // A key pasted into the path (a mis-built base URL, a key where its id belongs) is not kept in the entry.
      for (const path of [`/v1/${h.adminKey}`, `/inference/v1/${h.adminKey}`, `${A}/users/admin-example-com/apiKeys/${h.adminKey}`]) {
        const requestId = randomUUID();
        await h.call("GET", path, { key: null, headers: { "x-api-key": h.adminKey, "x-request-id": requestId } });
        const [entry] = await entriesOf(requestId);
        assert.ok(entry, path);
        assert.ok(!JSON.stringify(entry).includes(h.adminKey.slice(4)), `${path}: ${JSON.stringify(entry)}`);
        assert.match(entry.resource, /hk_\[redacted\]/);
      }
      // What a browser asks of the console's origin on its own, outside the API's mounts, is no account's operation.
      for (const path of ["/favicon.ico", "/apple-touch-icon.png"]) {
        const requestId = randomUUID();
        assert.equal((await h.call("GET", path, { key: null, headers: { cookie, "x-request-id": requestId } })).status, 404);
        assert.equal((await entriesOf(requestId)).length, 0, path);
      }
    });

    test("a route that takes no credential still answers the framework's 400", async () => {
      const res = await post(h, "/auth/cli/refresh", undefined, JSON.stringify({ refreshToken: "x".repeat(LIMIT * 2) }));
      assert.equal(res.status, 400, res.text);
    });
  });
}

describe("refusals before routing: a bad credential's cost, and the client's address behind a proxy", () => {
  let h: TestHearth;
  before(async () => {
    h = await startHearth("sqlite", { HEARTH_AUTH_FAILURES_SLOW: "10", HEARTH_AUTH_FAILURES_BLOCK: "3", HEARTH_TRUST_PROXY: "true" });
    await h.listen();
  });
  after(() => h.stop());

  test("it is counted against its address (no cheaper key guessing), audited nowhere; a valid key is still served and audited", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await h.call("GET", `${A}/bogusCollection`, { key: generateKey().key })).status, 404);
    const blocked = await h.call("GET", `${A}/users`, { key: generateKey().key });
    assert.equal(blocked.status, 429, "the three refusals before routing counted as failed authentications");
    assert.equal((await h.call("GET", `${A}/bogusCollection`, { key: generateKey().key })).status, 404, "the routing refusal is answered still");
    assert.deepEqual(await auditEntries(h, 'status:"UNAUTHENTICATED"'), []);
    assert.equal((await h.call("GET", `${A}/bogusCollection`)).status, 404);
    assert.equal((await auditEntries(h, `method="${UNROUTED}"`)).length, 1);
    assert.equal((await h.call("GET", `${A}/users`)).status, 200);
  });

  test("a URL the router cannot decode is audited with the forwarded client address, as a routed request is", async () => {
    for (const path of [`${A}/users/%ff`, `${A}/bogusCollection`]) {
      const requestId = randomUUID();
      const res = await fetch(new URL(path, h.baseUrl), {
        headers: { authorization: `Bearer ${h.adminKey}`, "x-request-id": requestId, "x-forwarded-for": "203.0.113.7" },
      });
      assert.ok([400, 404].includes(res.status), await res.text());
      const rows = await h.deps.store.db.selectFrom("audit_logs").select("client_ip").where("request_id", "=", requestId).execute();
      assert.deepEqual(
        rows.map((r) => r.client_ip),
        ["203.0.113.7"],
        path,
      );
    }
  });
});
