import assert from "node:assert/strict";
import { request as httpRequest, Agent } from "node:http";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { account, chat, infer, setQuota, sseData, startPlatform } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";

/**
 * The inference routes over a real connection, where a keyed JSON call is answered in front of the
 * framework (src/http/gateway-fast-path.ts), against the framework route itself (`h.call`, which
 * injects into the framework, or the same URL with a trailing slash, which only the framework
 * serves): the same answers, refusals audited once.
 */
const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";
const CHAT = "/inference/v1/chat/completions";
// Set per connection or per response by Node, not by a route.
const CONNECTION_HEADERS = new Set(["date", "connection", "keep-alive", "transfer-encoding"]);

const headerNames = (headers: Iterable<string>) => [...headers].filter((n) => !CONNECTION_HEADERS.has(n)).sort();

/** A metric's value in the /metrics text (0 when absent). */
function metric(text: string, line: RegExp): number {
  return Number(line.exec(text)?.[1] ?? 0);
}

for (const dialect of DIALECTS) {
  describe(`inference fast path over a real connection (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "bot", "user");
    });
    after(() => stop());

    const scrape = async () => (await (await fetch(`${h.baseUrl}/metrics`)).text()) as string;

    test("an admitted call: the framework route's status, headers and body, the client's request id echoed", async () => {
      const framework = await h.call("POST", CHAT, { key: bot.key, body: chat(PUBLIC) });
      assert.equal(framework.status, 200, JSON.stringify(framework.body));
      const res = await infer(h, bot.key, chat(PUBLIC));
      assert.equal(res.status, 200);
      const fast = Object.fromEntries(res.headers);
      assert.deepEqual(headerNames(Object.keys(fast)), headerNames(Object.keys(framework.headers)));
      for (const name of ["content-type", "content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "cache-control"]) {
        assert.equal(fast[name], framework.headers[name], name);
      }
      assert.equal(fast["x-ratelimit-over-limit"], "no");
      assert.deepEqual(await res.json(), framework.body);
      const echoed = await fetch(`${h.baseUrl}${CHAT}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json", "x-request-id": "trace-42" },
        body: JSON.stringify(chat(PUBLIC)),
      });
      assert.equal(echoed.headers.get("x-request-id"), "trace-42");
      assert.equal(up.requests.at(-1)!.headers["x-request-id"], "trace-42", "the backend gets the request id");
      await echoed.arrayBuffer();
    });

    test("a backend's 400 and 500 answer as the framework route answers them, in OpenAI's shape", async () => {
      for (const [content, status] of [
        ["echo-auth-400", 400],
        ["echo-auth", 502],
        ["overloaded", 429],
      ] as const) {
        const framework = await h.call("POST", CHAT, { key: bot.key, body: chat(PUBLIC, content) });
        const res = await infer(h, bot.key, chat(PUBLIC, content));
        assert.equal(res.status, status, content);
        assert.equal(framework.status, status, content);
        assert.deepEqual(await res.json(), framework.body, content);
        assert.equal(res.headers.get("content-type"), framework.headers["content-type"], content);
        assert.equal(res.headers.get("retry-after"), (framework.headers["retry-after"] as string | undefined) ?? null, content);
      }
    });

    test("each refusal is answered as the framework route answers it (the same URL with a trailing slash) and audited once per request", async () => {
      const cases: Array<[string, string | Record<string, unknown>, number, RegExp]> = [
        ["not JSON", "{not json", 400, /malformed JSON body/],
        ["an array", "[1,2]", 400, /request body/],
        ["no messages", { model: PUBLIC }, 400, /messages/],
        ["an unknown model", chat("accounts/my-account/models/nope"), 404, /not found/],
      ];
      for (const [what, body, status, message] of cases) {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        const res = await fetch(`${h.baseUrl}${CHAT}`, {
          method: "POST",
          headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json", "x-request-id": `refused-${status}-${what.length}` },
          body: text,
        });
        assert.equal(res.status, status, what);
        const answer = (await res.json()) as { error: { message: string; type: string } };
        assert.match(answer.error.message, message, what);
        assert.equal(typeof answer.error.type, "string", `${what}: OpenAI's error shape`);
        assert.equal(res.headers.get("x-request-id"), `refused-${status}-${what.length}`, what);
        const framework = await fetch(`${h.baseUrl}${CHAT}/`, {
          method: "POST",
          headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json" },
          body: text,
        });
        assert.equal(framework.status, status, what);
        assert.deepEqual(await framework.json(), answer, what);
      }
      const notFound = await auditEntries(h, 'message="CreateChatCompletion" AND status:"NOT_FOUND"');
      assert.equal(notFound.length, 2, "the unknown model is audited once on each path");
      const invalid = await auditEntries(h, 'message="CreateChatCompletion" AND status:"INVALID_ARGUMENT"');
      assert.equal(invalid.length, 6);
    });

    test("a refused key, a key outside its networks and a model the key may not use are refused as the framework refuses them", async () => {
      const unknown = await infer(h, "fw_" + "x".repeat(40), chat(PUBLIC));
      assert.equal(unknown.status, 401);
      await unknown.arrayBuffer();
      const made = await h.call("POST", `${A}/users/bot/apiKeys`, { body: { apiKey: { allowedCidrs: ["203.0.113.0/24"] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const outside = await infer(h, made.body.key, chat(PUBLIC));
      assert.equal(outside.status, 403);
      assert.match(((await outside.json()) as { error: { message: string } }).error.message, /203\.0\.113\.0\/24|address/);
      const limited = await h.call("POST", `${A}/users/bot/apiKeys`, { body: { apiKey: { allowedModels: ["accounts/my-account/models/*"] } } });
      assert.equal(limited.status, 200, JSON.stringify(limited.body));
      const denied = await infer(h, limited.body.key, chat(PUBLIC));
      assert.equal(denied.status, 404, "a model outside allowedModels reads as a missing one");
      await denied.arrayBuffer();
      const entries = await auditEntries(h, `message="CreateChatCompletion" AND status:"PERMISSION_DENIED"`);
      assert.equal(entries.length, 1, "the network refusal, once");
      const missing = await auditEntries(h, `message="CreateChatCompletion" AND status:"NOT_FOUND" AND status:"allowedModels"`);
      assert.equal(missing.length, 1, "the model refusal, once");
    });

    test("a limit refusal and an admitted call are each counted, timed and logged once", async () => {
      const acct = await account(h, "fast-rpm", { caller: "user" });
      await setQuota(h, "fast-rpm", "serverless-inference-rpm", 2, acct.admin);
      const before = await scrape();
      const logsBefore = h.logs.length;
      for (let i = 0; i < 2; i++) {
        const admitted = await infer(h, acct.keys.caller!, chat(PUBLIC));
        assert.equal(admitted.status, 200);
        await admitted.arrayBuffer();
      }
      const over = await infer(h, acct.keys.caller!, chat(PUBLIC));
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get("retry-after")) >= 1);
      assert.match(((await over.json()) as { error: { message: string } }).error.message, /serverless-inference-rpm/);
      const later = await scrape();
      const ok = /hearth_http_requests_total\{method="POST",route="\/inference\/v1\/chat\/completions",status="200"\} (\d+)/;
      const refused = /hearth_http_requests_total\{method="POST",route="\/inference\/v1\/chat\/completions",status="429"\} (\d+)/;
      const timed = /hearth_http_request_duration_seconds_count\{method="POST",route="\/inference\/v1\/chat\/completions"\} (\d+)/;
      const rejected = /hearth_quota_rejections_total\{quota="serverless-inference-rpm"\} (\d+)/;
      assert.equal(metric(later, ok) - metric(before, ok), 2);
      assert.equal(metric(later, refused) - metric(before, refused), 1);
      assert.equal(metric(later, timed) - metric(before, timed), 3);
      assert.equal(metric(later, rejected) - metric(before, rejected), 1);
      const lines = h.logs
        .slice(logsBefore)
        .map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number; method?: string; reqId?: string })
        .filter((l) => l.msg === "request" && l.path === CHAT);
      assert.deepEqual(
        lines.map((l) => [l.method, l.status]),
        [
          ["POST", 200],
          ["POST", 200],
          ["POST", 429],
        ],
      );
      assert.ok(lines.every((l) => typeof l.reqId === "string" && l.reqId !== ""));
    });

    test("one keep-alive connection carries admitted calls, a streamed call and refusals in turn", async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      const post = (body: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = httpRequest(`${h.baseUrl}${CHAT}`, {
            method: "POST",
            agent,
            headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
          });
          req.on("socket", (s) => sockets.add(s));
          req.on("response", (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on("error", reject);
          req.end(body);
        });
      try {
        const statuses: number[] = [];
        for (const body of [chat(PUBLIC), "{bad", chat(PUBLIC, "hi", { stream: true }), chat("accounts/my-account/models/nope"), chat(PUBLIC)]) {
          const answer = await post(typeof body === "string" ? body : JSON.stringify(body));
          statuses.push(answer.status);
          if (typeof body !== "string" && (body as Record<string, unknown>).stream === true) assert.match(answer.text, /data: \[DONE\]/);
        }
        assert.deepEqual(statuses, [200, 400, 200, 404, 200]);
        assert.equal(sockets.size, 1, "every answer left the connection open for the next");
      } finally {
        agent.destroy();
      }
    });

    test("a streamed call through the fast path is metered once with the backend's usage", async () => {
      const acct = await account(h, "fast-stream", { streamer: "user" });
      const events = await sseData(await infer(h, acct.keys.streamer!, chat(PUBLIC, "hi", { stream: true })));
      assert.equal(events.at(-1), "[DONE]");
      // Metering is written behind the response (within its batch interval).
      const since = new Date(Date.now() - 86_400_000).toISOString();
      let total = { requestCount: 0, promptTokens: 0, completionTokens: 0 };
      for (let i = 0; i < 100 && total.requestCount === 0; i++) {
        const usage = await h.call("GET", `/v1/accounts/fast-stream/billingUsage?startTime=${since}`, { key: acct.admin });
        assert.equal(usage.status, 200, JSON.stringify(usage.body));
        total = usage.body.total;
        if (total.requestCount === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(total.requestCount, 1);
      assert.ok(total.promptTokens > 0 && total.completionTokens > 0, "the backend's usage, not an estimate of nothing");
      // Nothing more arrives later: metered once.
      await new Promise((r) => setTimeout(r, 300));
      const again = await h.call("GET", `/v1/accounts/fast-stream/billingUsage?startTime=${since}`, { key: acct.admin });
      assert.deepEqual(again.body.total, total);
    });
  });
}
