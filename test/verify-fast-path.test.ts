import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKey } from "../src/domain/api-key-format.ts";
import { createAccount } from "../src/service/accounts.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";

const A = "/v1/accounts/my-account";
const PRINCIPAL_HEADERS = ["x-fireworks-account-id", "x-hearth-user-id", "x-hearth-principal", "x-hearth-role", "x-hearth-api-key-id", "cache-control"];
const SECURITY_HEADERS = ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"];

/** A metric's value in the /metrics text (0 when absent). */
function metric(text: string, line: RegExp): number {
  return Number(line.exec(text)?.[1] ?? 0);
}

for (const dialect of DIALECTS) {
  describe(`GET /verifyApiKey over a real connection answers like the framework route (${dialect})`, () => {
    let h: TestHearth;
    let base: string;
    before(async () => {
      h = await startHearth(dialect);
      base = await h.listen();
    });
    after(() => h.stop());

    const verify = (key: string, headers: Record<string, string> = {}, path = "/verifyApiKey") =>
      fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });

    test("a valid key: the same status, principal and security headers and body as the framework route, the client's request id echoed", async () => {
      const { key } = await serviceAccountWithKey(h, "fast-path");
      const framework = await h.call("GET", "/verifyApiKey", { key });
      assert.equal(framework.status, 200);
      for (let i = 0; i < 3; i++) {
        const res = await verify(key, { "x-request-id": `check-${i}` });
        assert.equal(res.status, 200);
        assert.match(String(res.headers.get("content-type")), /^application\/json/);
        assert.deepEqual(await res.json(), framework.body);
        for (const name of [...PRINCIPAL_HEADERS, ...SECURITY_HEADERS]) assert.equal(res.headers.get(name), framework.headers[name], name);
        assert.equal(res.headers.get("x-request-id"), `check-${i}`);
      }
      const generated = await verify(key, { "x-request-id": "not valid!" });
      assert.match(String(generated.headers.get("x-request-id")), /^[0-9a-f-]{36}$/);
    });

    test("counted in hearth_http_requests_total and timed in hearth_http_request_duration_seconds", async () => {
      const { key } = await serviceAccountWithKey(h, "counted");
      assert.equal((await verify(key)).status, 200);
      const scrape = async () => (await (await fetch(`${base}/metrics`)).text()) as string;
      const before = await scrape();
      for (let i = 0; i < 5; i++) assert.equal((await verify(key)).status, 200);
      const later = await scrape();
      const count = /hearth_http_requests_total\{method="GET",route="\/verifyApiKey",status="200"\} (\d+)/;
      const timed = /hearth_http_request_duration_seconds_count\{method="GET",route="\/verifyApiKey"\} (\d+)/;
      assert.equal(metric(later, count) - metric(before, count), 5);
      assert.equal(metric(later, timed) - metric(before, timed), 5);
    });

    test("an owner whose email is outside ASCII: 200 on both paths, x-hearth-principal percent-encoded, and the server keeps serving", async () => {
      const email = "иван@пример.рф";
      const key = (await createAccount(h.deps.store, h.deps.config, `cyr-${dialect}`, email)).apiKey;
      const framework = await h.call("GET", "/verifyApiKey", { key });
      assert.equal(framework.status, 200, JSON.stringify(framework.body));
      const res = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { email: string }).email, email);
      const header = res.headers.get("x-hearth-principal")!;
      assert.equal(header, framework.headers["x-hearth-principal"]);
      assert.match(header, /^[\x21-\x7e]+$/);
      assert.equal(decodeURIComponent(header), email);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    });

    test("a refused key gets the framework's 401 error, and a deleted key is refused on the next request", async () => {
      const unknown = await verify(generateKey().key);
      assert.equal(unknown.status, 401);
      assert.equal(((await unknown.json()) as { error: { status: string } }).error.status, "UNAUTHENTICATED");
      const { key, keyId } = await serviceAccountWithKey(h, "deleted-key");
      assert.equal((await verify(key)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/users/deleted-key/apiKeys/${keyId}`)).status, 200);
      const refused = await verify(key);
      assert.equal(refused.status, 401);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /not valid/);
    });

    test("a restricted key gets the framework route's answer over a real connection too", async () => {
      assert.equal((await h.call("POST", `${A}/users?userId=restricted`, { body: { serviceAccount: true } })).status, 200);
      const made = await h.call("POST", `${A}/users/restricted/apiKeys`, { body: { apiKey: { allowedCidrs: ["203.0.113.0/24"] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const framework = await h.call("GET", "/verifyApiKey", { key: made.body.key });
      const res = await verify(made.body.key);
      assert.equal(res.status, framework.status);
      assert.equal(res.status, 403, "refused from an address outside allowedCidrs");
      const body = (await res.json()) as { error: { status: string; message: string } };
      assert.equal(body.error.message, framework.body.error.message);
    });

    test("a malformed header, a query string or a trailing slash go the framework's way", async () => {
      const { key } = await serviceAccountWithKey(h, "other-forms");
      assert.equal((await verify(key, {}, "/verifyApiKey?x=1")).status, 200);
      assert.equal((await verify(key, {}, "/verifyApiKey/")).status, 200);
      const malformed = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Basic ${key}` } });
      assert.equal(malformed.status, 400);
    });
  });
}
