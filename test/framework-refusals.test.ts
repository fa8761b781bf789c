import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { auditEntries } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * "Every refusal of an authenticated request is one audit entry" held for refusals the routes make,
 * not for those the framework makes before a route runs: a body over the limit (declared or
 * chunked), on the control plane or the inference gateway, was answered 400 and left no entry. Now
 * it is audited in the caller's account; with a bad credential, the credential's refusal wins.
 */
const LIMIT = 4096;

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

    test("a route that takes no credential still answers the framework's 400", async () => {
      const res = await post(h, "/auth/cli/refresh", undefined, JSON.stringify({ refreshToken: "x".repeat(LIMIT * 2) }));
      assert.equal(res.status, 400, res.text);
    });
  });
}
