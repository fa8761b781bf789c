import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { keyedRequest } from "../src/http/fast-path-request.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, mistyped, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { chat, startPlatform } from "./support/platform.ts";

/**
 * Fireworks' "Fine-tuning via REST API" guide authenticates with `x-api-key: KEY`; Hearth read only
 * `Authorization: Bearer` and answered 401. `x-api-key` now works wherever an API key does (API
 * routes, the inference gateway and its fast path, /verifyApiKey); both headers with different
 * credentials are refused, never resolved by picking one; the key is never logged nor forwarded.
 */
const A = "/v1/accounts/my-account";
const CONFLICT = "conflicting credentials: the Authorization and x-api-key headers hold different keys; send one of them";
const MISSING = "missing credentials: send 'Authorization: Bearer <API key>' or 'x-api-key: <API key>'";

for (const dialect of DIALECTS) {
  describe(`x-api-key authenticates like Authorization: Bearer (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "bot", "user");
    });
    after(() => stop());

    const http = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
      fetch(`${h.baseUrl}${path}`, { ...init, headers: { ...headers, ...((init.headers as Record<string, string>) ?? {}) } });

    test("regression: an API route served with x-api-key (was 401 missing credentials)", async () => {
      const res = await http(`${A}/users`, { "x-api-key": h.adminKey });
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(((await res.json()) as { users: unknown[] }).users.length > 0);
      const created = await h.call("POST", `${A}/users?userId=via-header`, { key: null, headers: { "x-api-key": h.adminKey }, body: { serviceAccount: true } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
    });

    test("without a credential the 401 names both headers; a bad key in x-api-key is a 401", async () => {
      const none = await h.call("GET", `${A}/users`, { key: null });
      assert.equal(none.status, 401);
      assert.equal(none.body.error.message, MISSING);
      const bad = await h.call("GET", `${A}/users`, { key: null, headers: { "x-api-key": mistyped(h.adminKey) } });
      assert.equal(bad.status, 401, JSON.stringify(bad.body));
      // x-api-key takes API keys only: an ID token there is not read as one.
      const jwtish = await h.call("GET", `${A}/users`, { key: null, headers: { "x-api-key": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln" } });
      assert.equal(jwtish.status, 401, JSON.stringify(jwtish.body));
    });

    test("both headers with different keys are a 400 on every path, never one of them picked; the same key twice is served", async () => {
      const both = { authorization: `Bearer ${h.adminKey}`, "x-api-key": bot.key };
      const api = await http(`${A}/users`, both);
      assert.equal(api.status, 400);
      assert.equal(((await api.json()) as { error: { message: string } }).error.message, CONFLICT);
      const verify = await http("/verifyApiKey", both);
      assert.equal(verify.status, 400);
      const infer = await http(
        "/inference/v1/chat/completions",
        { ...both, "content-type": "application/json" },
        { method: "POST", body: JSON.stringify(chat("accounts/fireworks/models/tiny-public")) },
      );
      assert.equal(infer.status, 400, await infer.clone().text());
      assert.match(await infer.text(), /conflicting credentials/);
      // A key and a mistyped copy of it conflict too, whichever is valid.
      const mistypedCopy = await http(`${A}/users`, { authorization: `Bearer ${mistyped(h.adminKey)}`, "x-api-key": h.adminKey });
      assert.equal(mistypedCopy.status, 400);
      const same = await http(`${A}/users`, { authorization: `Bearer ${h.adminKey}`, "x-api-key": h.adminKey });
      assert.equal(same.status, 200);
    });

    test("x-api-key given twice is a 400, not either value", async () => {
      const headers = new Headers();
      headers.append("x-api-key", h.adminKey);
      headers.append("x-api-key", bot.key);
      const res = await fetch(`${h.baseUrl}${A}/users`, { headers });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { message: string } }).error.message, "malformed x-api-key header: expected the API key alone, once");
    });

    test("reproduction: Authorization given twice is a 400 on every path, not the first one silently (Node keeps only the first)", async () => {
      const raw = (method: string, path: string, body = "") =>
        new Promise<string>((resolve, reject) => {
          const url = new URL(h.baseUrl);
          const socket = connect(Number(url.port), url.hostname, () => {
            socket.write(
              `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${h.adminKey}\r\nAuthorization: Bearer ${bot.key}\r\n` +
                `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
            );
          });
          let text = "";
          socket.on("data", (chunk) => (text += chunk));
          socket.on("end", () => resolve(text));
          socket.on("error", reject);
        });
      const created = await raw("POST", `${A}/users?userId=twice`, JSON.stringify({ serviceAccount: true }));
      assert.match(created, /^HTTP\/1\.1 400/);
      assert.match(created, /repeated Authorization header: send one credential/);
      assert.equal((await h.call("GET", `${A}/users/twice`)).status, 404, "nothing was created as the first key");
      for (const [method, path, body] of [
        ["POST", "/inference/v1/chat/completions", JSON.stringify(chat("accounts/fireworks/models/tiny-public"))],
        ["GET", "/verifyApiKey", ""],
      ] as const) {
        const answer = await raw(method, path, body);
        assert.match(answer, /^HTTP\/1\.1 400/, `${path}: ${answer.slice(0, 200)}`);
        assert.match(answer, /repeated Authorization header/);
      }
    });

    test("/verifyApiKey takes x-api-key, on its fast path and through the framework", async () => {
      const fast = await http("/verifyApiKey", { "x-api-key": bot.key });
      assert.equal(fast.status, 200, await fast.clone().text());
      const framework = await h.call("GET", "/verifyApiKey", { key: null, headers: { "x-api-key": bot.key } });
      assert.equal(framework.status, 200, JSON.stringify(framework.body));
    });

    test("the fast paths read the key from x-api-key as the framework does, and leave conflicting headers to it", () => {
      const request = (headers: Record<string, string>) =>
        ({ headers, rawHeaders: Object.entries(headers).flat(), socket: { remoteAddress: "127.0.0.1" } }) as unknown as IncomingMessage;
      assert.equal(keyedRequest(request({ "x-api-key": bot.key }), h.deps)?.token, bot.key);
      assert.equal(keyedRequest(request({ authorization: `Bearer ${bot.key}` }), h.deps)?.token, bot.key);
      assert.equal(keyedRequest(request({ authorization: `Bearer ${h.adminKey}`, "x-api-key": bot.key }), h.deps), undefined);
    });

    test("inference takes x-api-key (fast path and framework); the backend gets its own credential, never the client's key", async () => {
      up.requests.length = 0;
      const body = chat("accounts/fireworks/models/tiny-public");
      const fast = await http(
        "/inference/v1/chat/completions",
        { "x-api-key": bot.key, "content-type": "application/json" },
        { method: "POST", body: JSON.stringify(body) },
      );
      assert.equal(fast.status, 200, await fast.clone().text());
      const framework = await h.call("POST", "/inference/v1/chat/completions", { key: null, headers: { "x-api-key": bot.key }, body });
      assert.equal(framework.status, 200, JSON.stringify(framework.body));
      assert.equal(up.requests.length, 2);
      for (const r of up.requests) {
        assert.equal(r.headers["x-api-key"], undefined);
        assert.ok(!JSON.stringify(r.headers).includes(bot.key), "the client's key reached the backend");
      }
    });

    test("a session cookie with x-api-key is the key's request, as with Bearer: no CSRF proof asked, audited as the key", async () => {
      await human(h, "bob@example.com", "admin");
      const link = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const signedIn = await h.call("GET", new URL(link.url).pathname, { key: null });
      const cookie = ([] as unknown[])
        .concat(signedIn.headers["set-cookie"])
        .map(String)
        .find((c) => c.startsWith("hearth_session="))!
        .split(";")[0]!;
      const who = await h.call("GET", "/auth/session", { key: null, headers: { cookie, "x-api-key": bot.key } });
      assert.equal(who.status, 200);
      assert.equal(who.body.via, "apiKey");
      assert.equal(who.body.csrfToken, undefined);
      const made = await h.call("POST", `${A}/users/bot/apiKeys`, {
        key: null,
        headers: { cookie, "x-api-key": bot.key },
        body: { apiKey: { displayName: "by-header" } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const entries = (await auditEntries(h, 'method="CreateApiKey"')).filter((e) => e.resource === "accounts/my-account/users/bot");
      const entry = entries.sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1))[0];
      assert.equal(entry.apiKeyId, bot.keyId);
      assert.equal(entry.principal, "bot@my-account.sa.hearth.local");
    });

    test("no cross-origin request is let through: a preflight asking for x-api-key gets no CORS grant", async () => {
      const res = await fetch(`${h.baseUrl}${A}/users`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET", "access-control-request-headers": "x-api-key" },
      });
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(res.headers.get("access-control-allow-headers"), null);
    });

    test("no key sent in x-api-key is written to the log", async () => {
      for (const key of [h.adminKey, bot.key]) assert.ok(!h.logs.join("").includes(key), "a key was logged");
    });
  });
}
