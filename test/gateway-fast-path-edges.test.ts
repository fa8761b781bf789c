import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { account, chat, setQuota, startPlatform } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { openConnection, postHead, readUntilClosed, statusOf } from "./support/raw-http.ts";

/**
 * Edges where the inference fast path (an exact route URL, answered in front of the framework)
 * once answered differently from the framework route (the same URL with a trailing slash, which
 * only the framework serves), over real connections: each now asserts that both answer alike.
 */
const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";
const FAST = "/inference/v1/chat/completions";
const FRAMEWORK = "/inference/v1/chat/completions/";
/** Each request of a comparison goes once to each path, named. */
const BOTH = [
  ["framework", FRAMEWORK],
  ["fast", FAST],
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(h: TestHearth, path: string, key: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe("inference fast path and framework route alike at the edges", () => {
  let h: TestHearth;
  let up: FakeUpstream;
  let stop: () => Promise<void>;
  before(async () => {
    ({ h, up, stop } = await startPlatform("sqlite"));
  });
  after(() => stop());

  test("a key disabled while its request body is still arriving is refused on both, and the backend is not called", async () => {
    const results: Record<string, number> = {};
    for (const [label, path] of BOTH) {
      const bot = await serviceAccountWithKey(h, `toctou-${label}`, "user");
      const body = JSON.stringify(chat(PUBLIC));
      const s = await openConnection(h.baseUrl);
      const answer = readUntilClosed(s);
      s.write(postHead(path, bot.key, Buffer.byteLength(body)) + body.slice(0, 10));
      await sleep(200);
      const disabled = await h.call("POST", `${A}/users/toctou-${label}/apiKeys/${bot.keyId}:disable`, { body: { disableReason: "EXPOSED" } });
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      // The key is refused from now on...
      assert.equal((await post(h, FAST, bot.key, body)).status, 401);
      const before = up.requests.length;
      // ...but the body of the request whose headers came first is finished now.
      s.write(body.slice(10));
      results[label] = statusOf(await answer);
      results[`${label} upstream calls`] = up.requests.length - before;
    }
    assert.deepEqual(results, { framework: 401, "framework upstream calls": 0, fast: 401, "fast upstream calls": 0 });
  });

  test("a NUL character in an inference body is forwarded on both mounts by both (inference bodies are never stored)", async () => {
    const bot = await serviceAccountWithKey(h, "nul", "user");
    const body = JSON.stringify(chat(PUBLIC, "a\u0000b"));
    const framework = await post(h, "/v1/chat/completions/", bot.key, body);
    const fast = await post(h, "/v1/chat/completions", bot.key, body);
    assert.equal(fast.status, 200, fast.text);
    assert.deepEqual([fast.status, fast.text.slice(0, 120)], [framework.status, framework.text.slice(0, 120)]);
    assert.equal((await post(h, "/inference/v1/chat/completions/", bot.key, body)).status, 200);
  });

  test("a backend failure (502) after admission is audited once on both", async () => {
    const counts: Record<string, number> = {};
    for (const [label, path] of BOTH) {
      const bot = await serviceAccountWithKey(h, `fail-${label}`, "user");
      const res = await post(h, path, bot.key, JSON.stringify(chat(PUBLIC, "fail")));
      assert.equal(res.status, 502, res.text);
      const entries = await auditEntries(h, 'message="CreateChatCompletion"');
      counts[label] = entries.filter((e: { apiKeyId?: string }) => e.apiKeyId === bot.keyId).length;
    }
    assert.deepEqual(counts, { framework: 1, fast: 1 });
  });

  test("a client that goes away while the backend thinks is audited as CANCELLED (499), not as a backend failure, on both", async () => {
    for (const [label, path] of BOTH) {
      const bot = await serviceAccountWithKey(h, `left-${label}`, "user");
      const body = JSON.stringify(chat(PUBLIC, "hang"));
      const asked = up.requests.length;
      const s = await openConnection(h.baseUrl);
      s.write(postHead(path, bot.key, Buffer.byteLength(body)) + body);
      while (up.requests.length === asked) await sleep(10);
      s.destroy();
      let entry: any;
      for (let i = 0; i < 200 && !entry; i++) {
        entry = (await auditEntries(h, 'message="CreateChatCompletion"')).find((e: { apiKeyId?: string }) => e.apiKeyId === bot.keyId);
        if (!entry) await sleep(25);
      }
      assert.ok(entry, `${label}: audited`);
      assert.deepEqual([entry.status.code, entry.status.message], ["CANCELLED", "CANCELLED: the client closed the request"], label);
    }
  });

  test("a JSON object shorter than its Content-Length from a client that goes away takes nothing of the rpm quota on either", async () => {
    const used: Record<string, number> = {};
    for (const [label, path] of BOTH) {
      const acct = await account(h, `cut-${label}`, { caller: "user" });
      await setQuota(h, `cut-${label}`, "serverless-inference-rpm", 3, acct.admin);
      const body = JSON.stringify(chat(PUBLIC));
      const calls = up.requests.length;
      for (let i = 0; i < 3; i++) {
        const s = await openConnection(h.baseUrl);
        s.write(postHead(path, acct.keys.caller!, Buffer.byteLength(body) + 50) + body);
        await sleep(100);
        s.destroy();
        await sleep(50);
      }
      used[label] = await h.deps.rateLimiter.used(`cut-${label}`);
      // Each broken-off request is audited, without the address its closed socket no longer has (its entry failed to be written).
      const entries = await h.call(
        "GET",
        `/v1/accounts/cut-${label}/auditLogs?pageSize=50&filter=${encodeURIComponent('status:"INVALID_ARGUMENT" OR status:"CANCELLED"')}`,
        { key: acct.admin },
      );
      used[`${label} refusals audited`] = entries.body.auditLogs?.length ?? -1;
      used[`${label} upstream calls`] = up.requests.length - calls;
      const next = await post(h, path, acct.keys.caller!, body);
      used[`${label} next`] = next.status;
    }
    assert.deepEqual(used, {
      framework: 0,
      "framework refusals audited": 3,
      "framework upstream calls": 0,
      "framework next": 200,
      fast: 0,
      "fast refusals audited": 3,
      "fast upstream calls": 0,
      "fast next": 200,
    });
  });

  test("a member named __proto__, in any spelling, is refused with 400 on both and on the control plane; nothing reaches the backend", async () => {
    const bot = await serviceAccountWithKey(h, "proto", "user");
    const calls = up.requests.length;
    for (const name of ["__proto__", "\\u005f_proto__", "__pr\\u006fto__"]) {
      const body = `{"model":"${PUBLIC}","messages":[{"role":"user","content":"hi"}],"${name}":{"stream":true}}`;
      for (const path of [FRAMEWORK, FAST]) {
        const res = await post(h, path, bot.key, body);
        assert.equal(res.status, 400, `${path} ${name}: ${res.text}`);
        assert.match(JSON.parse(res.text).error.message, /member named "__proto__"/);
      }
    }
    assert.equal(up.requests.length, calls);
    const nested = await post(h, `${A}/users?userId=proto-user`, h.adminKey, '{"serviceAccount":true,"displayName":"x","__proto__":{"role":"admin"}}');
    assert.equal(nested.status, 400, nested.text);
    assert.match(JSON.parse(nested.text).error.message, /malformed JSON body: a member named "__proto__"/);
    assert.equal((await h.call("GET", `${A}/users/proto-user`)).status, 404);
  });

  test("a body without model: the same refusal in the route's words, audited alike, on both", async () => {
    const bot = await serviceAccountWithKey(h, "nomodel", "user");
    const body = JSON.stringify({ messages: [{ role: "user", content: "hi" }] });
    const answers: Record<string, unknown> = {};
    for (const [label, path] of BOTH) {
      const res = await post(h, path, bot.key, body);
      const entries = (await auditEntries(h, 'message="CreateChatCompletion"')).filter((e: { apiKeyId?: string }) => e.apiKeyId === bot.keyId);
      answers[label] = { status: res.status, message: JSON.parse(res.text).error.message, resource: entries[0]?.resource?.replace(/\/$/, "") };
    }
    assert.deepEqual(answers.fast, answers.framework);
    assert.equal((answers.fast as { status: number }).status, 400);
  });

  test("pipelined requests, Expect: 100-continue and HTTP/1.0 through the replay (no difference found)", async () => {
    const bot = await serviceAccountWithKey(h, "pipe", "user");
    const good = JSON.stringify(chat(PUBLIC));
    const bad = "{bad";
    const req = (body: string, close = false) =>
      `POST ${FAST} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bot.key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? "Connection: close\r\n" : ""}\r\n${body}`;
    const s = await openConnection(h.baseUrl);
    const answer = readUntilClosed(s);
    s.write(req(bad) + req(good) + req(bad) + req(good, true));
    const raw = await answer;
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [400, 200, 400, 200], raw.slice(0, 2000));

    const c = await openConnection(h.baseUrl);
    const continued = readUntilClosed(c);
    c.write(
      `POST ${FAST} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bot.key}\r\nContent-Type: application/json\r\nContent-Length: ${bad.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    await sleep(100);
    c.write(bad);
    const text = await continued;
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400/, text.slice(0, 200));

    const old = await openConnection(h.baseUrl);
    const oldAnswer = readUntilClosed(old);
    old.write(`POST ${FAST} HTTP/1.0\r\nAuthorization: Bearer ${bot.key}\r\nContent-Type: application/json\r\nContent-Length: ${bad.length}\r\n\r\n${bad}`);
    assert.equal(statusOf(await oldAnswer), 400);
  });
});

describe("inference fast path on PostgreSQL (a key's first use reads the store)", { skip: !DIALECTS.includes("postgres") }, () => {
  let h: TestHearth;
  let stop: () => Promise<void>;
  before(async () => {
    ({ h, stop } = await startPlatform("postgres"));
  });
  after(() => stop());

  test("a model name holding NUL is refused, not a server error, on both (its refusal is audited in PostgreSQL)", async () => {
    const bot = await serviceAccountWithKey(h, "nul-model", "user");
    for (const path of [FRAMEWORK, FAST]) {
      const res = await post(h, path, bot.key, JSON.stringify(chat("accounts/my-account/models/a\u0000b")));
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status} ${res.text}`);
    }
    const entries = await auditEntries(h, 'message="CreateChatCompletion"');
    assert.equal(entries.filter((e: { apiKeyId?: string }) => e.apiKeyId === bot.keyId).length, 2);
  });

  test("a client gone while its new key is looked up gets one access-log line on both", async () => {
    const lines: Record<string, number> = {};
    for (const [label, path] of BOTH) {
      const bot = await serviceAccountWithKey(h, `gone-${label}`, "user");
      const body = JSON.stringify(chat(PUBLIC));
      const logsBefore = h.logs.length;
      const s = await openConnection(h.baseUrl);
      s.end(postHead(path, bot.key, Buffer.byteLength(body), { extra: `x-request-id: gone-${label}\r\n` }) + body);
      s.destroy();
      await sleep(500);
      lines[label] = h.logs.slice(logsBefore).filter((l) => l.includes(`gone-${label}`) && l.includes('"msg":"request"')).length;
    }
    assert.deepEqual(lines, { framework: 1, fast: 1 });
  });
});
