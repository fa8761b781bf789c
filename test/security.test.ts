import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKey } from "../src/domain/api-key-format.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries, mistyped, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";

/**
 * The shared security suite: every authenticated route (read from the OpenAPI document, so a new
 * route is covered the day it is added) refuses each bad credential the same way.
 */
for (const dialect of DIALECTS) {
  describe(`every authenticated route refuses bad credentials (${dialect})`, () => {
    let h: TestHearth;
    let routes: Array<{ method: string; url: string; operationId: string }>;
    const creds: Record<string, string> = {};

    before(async () => {
      h = await startHearth(dialect);
      const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
      routes = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown; operationId: string }>>).flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => op.security)
          .map(([method, op]) => ({
            method: method.toUpperCase(),
            operationId: op.operationId,
            url: path.replace("{accountId}", "my-account").replace("{userId}", "target").replace("{keyId}", "somekey").replace("{quotaId}", "service-accounts"),
          })),
      );
      assert.ok(routes.length >= 12, `found ${routes.length} routes`);
      await serviceAccountWithKey(h, "target");
      const expired = await serviceAccountWithKey(h, "expired-owner");
      await h.deps.store.db
        .updateTable("api_keys")
        .set({ expire_time: Date.now() - 1000 })
        .where("id", "=", expired.keyId)
        .execute();
      creds.expired = expired.key;
      creds.deletedOwner = (await serviceAccountWithKey(h, "deleted-owner")).key;
      assert.equal((await h.call("DELETE", "/v1/accounts/my-account/users/deleted-owner")).status, 200);
      creds.otherAccount = await otherAccount(h);
    });
    after(() => h.stop());

    const cases: Array<
      [string, (r: { method: string; url: string }) => Promise<{ status: number; body: any; headers: Record<string, unknown> }>, number, RegExp]
    > = [
      ["no credential", (r) => h.call(r.method, r.url, { key: null, body: {} }), 401, /missing credentials/],
      [
        "a malformed Authorization header",
        (r) => h.call(r.method, r.url, { key: null, body: {}, headers: { authorization: "Basic abc:def" } }),
        400,
        /malformed Authorization header/,
      ],
      ["a key with a bad checksum", (r) => h.call(r.method, r.url, { key: mistyped(h.adminKey), body: {} }), 401, /malformed/],
      ["a well-formed key that does not exist", (r) => h.call(r.method, r.url, { key: generateKey().key, body: {} }), 401, /not valid/],
      ["an expired key", (r) => h.call(r.method, r.url, { key: creds.expired, body: {} }), 401, /expired/],
      ["the key of a deleted owner", (r) => h.call(r.method, r.url, { key: creds.deletedOwner, body: {} }), 401, /not valid/],
    ];

    for (const [what, send, status, message] of cases) {
      test(`${what} is refused with ${status} on every route`, async () => {
        for (const r of routes) {
          const res = await send(r);
          assert.equal(res.status, status, `${r.method} ${r.url}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.error.message, message, `${r.method} ${r.url}`);
          if (status === 401) assert.match(String(res.headers["www-authenticate"]), /^Bearer realm=/);
        }
      });
    }

    test("a key of another account gets 404 on every account route, never revealing existence", async () => {
      // The public model catalogue (accounts/fireworks) is every account's by design.
      for (const r of routes.filter((x) => x.url.startsWith("/v1/accounts/") && !x.url.startsWith("/v1/accounts/fireworks/"))) {
        const res = await h.call(r.method, r.url, { key: creds.otherAccount, body: {} });
        assert.equal(res.status, 404, `${r.method} ${r.url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.message, 'account "my-account" not found');
      }
      const missing = await h.call("GET", "/v1/accounts/no-such-account/users", { key: creds.otherAccount });
      assert.equal(missing.body.error.message, 'account "no-such-account" not found', "an absent account reads the same");
    });

    test("the Bearer scheme is case-insensitive", async () => {
      const res = await h.call("GET", "/verifyApiKey", { key: null, headers: { authorization: `bEaReR ${h.adminKey}` } });
      assert.equal(res.status, 200);
    });

    test("unauthenticated attempts on an account are audited without a principal", async () => {
      const entries = await auditEntries(h, 'status:"UNAUTHENTICATED"');
      assert.ok(entries.length >= 1);
      assert.equal(entries[0].principal, "");
      assert.equal(entries[0].apiKeyId, "");
    });
  });
}
