import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { account, chat, infer, setQuota, sseData, startPlatform, upload } from "./support/platform.ts";
import { UPSTREAM_SECRET, USAGE, type FakeUpstream } from "./support/model-server.ts";
import { until } from "./support/until.ts";

const A = "/v1/accounts/my-account";
const TINY = "accounts/my-account/models/tiny";
const PUBLIC = "accounts/fireworks/models/tiny-public";

for (const dialect of DIALECTS) {
  describe(`inference gateway (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      const model = await h.call("POST", `${A}/models?modelId=tiny`, {
        body: { model: { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 0.5, outputPricePerMillionTokens: 1.5 } },
      });
      assert.equal(model.status, 200, JSON.stringify(model.body));
      bot = await serviceAccountWithKey(h, "bot", "contributor");
    });
    after(() => stop());

    test("a contributor creates a dataset and a deployment, runs a streamed and a plain completion through it, and cannot delete another principal's deployment", async () => {
      const ds = await h.call("POST", `${A}/datasets?datasetId=chats`, { key: bot.key, body: { dataset: { displayName: "chats" } } });
      assert.equal(ds.status, 200, JSON.stringify(ds.body));
      const uploaded = await upload(
        h,
        bot.key,
        "my-account",
        "chats",
        '{"messages":[{"role":"user","content":"a"}]}\n{"messages":[{"role":"user","content":"b"}]}\n',
      );
      assert.equal(uploaded.status, 200);
      assert.equal(((await uploaded.json()) as any).exampleCount, "2");

      const dep = await h.call("POST", `${A}/deployments?deploymentId=bot-dep`, { key: bot.key, body: { baseModel: TINY } });
      assert.equal(dep.status, 200, JSON.stringify(dep.body));
      assert.equal(dep.body.state, "READY");
      assert.equal(dep.body.createdBy, "bot@my-account.sa.hearth.local");

      const target = `${TINY}#accounts/my-account/deployments/bot-dep`;
      const plain = await infer(h, bot.key, chat(target));
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get("x-ratelimit-over-limit"), "no");
      assert.ok(Number(plain.headers.get("x-ratelimit-remaining-requests")) > 0);
      const answer = (await plain.json()) as any;
      assert.equal(answer.choices[0].message.content, "Hello, world");
      const sent = up.requests.at(-1)!;
      assert.equal(sent.body.model, "tiny-upstream", "the upstream gets its own model name");

      const streamed = await infer(h, bot.key, chat(target, "hi", { stream: true }));
      assert.equal(streamed.status, 200);
      assert.match(streamed.headers.get("content-type")!, /^text\/event-stream/);
      const events = await sseData(streamed);
      assert.equal(events.at(-1), "[DONE]");
      const text = events
        .slice(0, -1)
        .map((e) => JSON.parse(e).choices[0].delta.content)
        .join("");
      assert.equal(text, "Hello, world");
      assert.deepEqual(up.requests.at(-1)!.body.stream_options, { include_usage: true }, "usage is requested upstream");
      assert.ok(
        events.every((e) => !e.includes('"usage"')),
        "the usage chunk the client did not ask for is not forwarded",
      );

      const withUsage = await sseData(await infer(h, bot.key, chat(target, "hi", { stream: true, stream_options: { include_usage: true } })));
      assert.deepEqual(JSON.parse(withUsage.at(-2)!).usage, USAGE);

      const completion = await infer(h, bot.key, { model: target, prompt: "once upon" }, "/inference/v1/completions");
      assert.equal(completion.status, 200);
      assert.equal(((await completion.json()) as any).choices[0].text, "Hello, world");

      const adminDep = await h.call("POST", `${A}/deployments?deploymentId=admin-dep`, { body: { baseModel: TINY } });
      assert.equal(adminDep.status, 200);
      const refused = await h.call("DELETE", `${A}/deployments/admin-dep`, { key: bot.key });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.message, 'role "contributor" cannot delete deployments created by others');
      assert.equal((await h.call("GET", `${A}/deployments/admin-dep`, { key: bot.key })).status, 200, "still there");
      const denied = await auditEntries(h, 'message="DeleteDeployment" AND status:"PERMISSION_DENIED"');
      assert.equal(denied[0].principal, "bot@my-account.sa.hearth.local");
      assert.equal((await h.call("DELETE", `${A}/deployments/bot-dep`, { key: bot.key })).status, 200, "its own it may delete");

      const usage = await h.call("GET", `${A}/billingUsage`, { key: bot.key });
      const mine = usage.body.usage.find((u: any) => u.apiKeyId === bot.keyId && u.model === TINY);
      assert.equal(mine.requestCount, 4);
      assert.equal(mine.promptTokens, 4 * USAGE.prompt_tokens);
      assert.equal(mine.completionTokens, 4 * USAGE.completion_tokens);
      assert.equal(mine.principal, "bot@my-account.sa.hearth.local");
      assert.equal(mine.costUsd, (4 * (USAGE.prompt_tokens * 0.5 + USAGE.completion_tokens * 1.5)) / 1e6);
    });

    test("an inference-user runs inference, but creating anything is refused", async () => {
      const viewer = await serviceAccountWithKey(h, "viewer", "inference-user");
      const ok = await infer(h, viewer.key, chat(PUBLIC));
      assert.equal(ok.status, 200);
      for (const [url, body] of [
        [`${A}/models?modelId=mine`, { model: { backend: "local" } }],
        [`${A}/deployments?deploymentId=mine`, { baseModel: TINY }],
        [`${A}/datasets?datasetId=mine`, {}],
      ] as const) {
        const res = await h.call("POST", url, { key: viewer.key, body });
        assert.equal(res.status, 403, url);
        assert.match(res.body.error.message, /^role "inference-user" cannot create /);
      }
      assert.equal((await h.call("GET", `${A}/deployments`, { key: viewer.key })).status, 200, "it may view");
      const entries = await auditEntries(h, 'message="CreateDataset" AND status:"PERMISSION_DENIED"');
      assert.equal(entries[0].principal, "viewer@my-account.sa.hearth.local");
    });

    test("two principals together hit the account's requests-per-minute limit; the refusal is audited", async () => {
      const acct = await account(h, "rpm-acct", { alpha: "user", beta: "inference-user" });
      await setQuota(h, "rpm-acct", "serverless-inference-rpm", 10, acct.admin);
      for (let i = 0; i < 6; i++) assert.equal((await infer(h, acct.keys.alpha!, chat(PUBLIC))).status, 200);
      for (let i = 0; i < 4; i++) assert.equal((await infer(h, acct.keys.beta!, chat(PUBLIC))).status, 200);
      const over = await infer(h, acct.keys.beta!, chat(PUBLIC));
      assert.equal(over.status, 429);
      assert.equal(over.headers.get("x-ratelimit-limit-requests"), "10");
      assert.equal(over.headers.get("x-ratelimit-remaining-requests"), "0");
      assert.equal(over.headers.get("x-ratelimit-over-limit"), "yes");
      const body = (await over.json()) as any;
      assert.equal(body.error.type, "rate_limit_error");
      assert.equal(body.error.code, "rate_limit_exceeded");
      assert.match(body.error.message, /quota "serverless-inference-rpm" exceeded/);
      const audit = await h.call("GET", `/v1/accounts/rpm-acct/auditLogs?filter=${encodeURIComponent('message="CreateChatCompletion"')}`, { key: acct.admin });
      assert.equal(audit.body.auditLogs.length, 1, "refusals are audited, successes are metered");
      assert.equal(audit.body.auditLogs[0].principal, "beta@rpm-acct.sa.hearth.local");
      assert.equal(audit.body.auditLogs[0].resource, PUBLIC);
      // Another account has its own window.
      assert.equal((await infer(h, bot.key, chat(PUBLIC))).status, 200);
      const quota = await h.call("GET", "/v1/accounts/rpm-acct/quotas/serverless-inference-rpm", { key: acct.admin });
      assert.equal(quota.body.usage, 10);
    });

    test("50 concurrent requests do not overshoot the limit", async () => {
      const acct = await account(h, "burst-acct", { one: "user", two: "user" });
      await setQuota(h, "burst-acct", "serverless-inference-rpm", 20, acct.admin);
      const before = up.requests.length;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          infer(h, i % 2 ? acct.keys.one! : acct.keys.two!, chat(PUBLIC)).then(async (r) => (await r.arrayBuffer(), r.status)),
        ),
      );
      assert.equal(results.filter((s) => s === 200).length, 20);
      assert.equal(results.filter((s) => s === 429).length, 30);
      assert.equal(up.requests.length - before, 20, "refused requests never reach the backend");
    });

    test("spend stops requests at the account's monthly limit", async () => {
      const acct = await account(h, "spend-acct", { spender: "user" });
      const priced = await h.call("POST", "/v1/accounts/spend-acct/models?modelId=dear", {
        key: acct.admin,
        body: { model: { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 100_000, outputPricePerMillionTokens: 100_000 } },
      });
      assert.equal(priced.status, 200);
      await setQuota(h, "spend-acct", "monthly-spend-usd", 3, acct.admin);
      const model = "accounts/spend-acct/models/dear";
      // Each call reports 18 tokens at $0.10 a token: $1.80.
      assert.equal((await infer(h, acct.keys.spender!, chat(model))).status, 200);
      assert.equal((await infer(h, acct.keys.spender!, chat(model))).status, 200);
      const stopped = await infer(h, acct.keys.spender!, chat(model));
      assert.equal(stopped.status, 402, "an exhausted budget is 402, which OpenAI's SDKs do not retry");
      const body = (await stopped.json()) as any;
      assert.equal(body.error.code, "insufficient_quota");
      assert.match(body.error.message, /quota "monthly-spend-usd" exceeded: \$3\.600000 spent this month of \$3/);
      const quota = await h.call("GET", "/v1/accounts/spend-acct/quotas/monthly-spend-usd", { key: acct.admin });
      assert.equal(quota.body.usage, 3.6);
      await setQuota(h, "spend-acct", "monthly-spend-usd", 10, acct.admin);
      assert.equal((await infer(h, acct.keys.spender!, chat(model))).status, 200, "a raised limit lets requests through again");
    });

    test("usage shows the token counts of each key", async () => {
      const acct = await account(h, "usage-acct", { worker: "user" });
      const second = await h.call("POST", "/v1/accounts/usage-acct/users/worker/apiKeys", { key: acct.admin, body: { apiKey: { displayName: "second" } } });
      for (let i = 0; i < 3; i++) assert.equal((await infer(h, acct.keys.worker!, chat(PUBLIC))).status, 200);
      assert.equal((await sseData(await infer(h, second.body.key, chat(PUBLIC, "hi", { stream: true })))).at(-1), "[DONE]");
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const usage = await h.call("GET", `/v1/accounts/usage-acct/billingUsage?startTime=${since}`, { key: acct.admin });
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      const rows = usage.body.usage;
      assert.equal(rows.length, 2);
      const byKey = new Map(rows.map((r: any) => [r.apiKeyId, r]));
      const first: any = [...byKey.values()].find((r: any) => r.apiKeyId !== second.body.keyId);
      assert.deepEqual([first.requestCount, first.promptTokens, first.completionTokens], [3, 33, 21]);
      const other: any = byKey.get(second.body.keyId);
      assert.deepEqual([other.requestCount, other.promptTokens, other.completionTokens], [1, 11, 7], "the streamed call is metered from its final chunk");
      assert.equal(usage.body.total.totalTokens, 4 * 18);
      assert.equal(first.costUsd, (3 * (11 * 1 + 7 * 2)) / 1e6);
      const empty = await h.call("GET", "/v1/accounts/usage-acct/billingUsage?startTime=2020-01-01T00:00:00Z&endTime=2020-02-01T00:00:00Z", {
        key: acct.admin,
      });
      assert.deepEqual(empty.body.usage, []);
    });

    test("a usage report out of bounds (1e308, negative, fractional, a string) is not believed: the call is metered at its estimate and the account keeps working", async () => {
      const acct = await account(h, "huge-usage", { worker: "user" });
      const key = acct.keys.worker!;
      const reports = [
        '{"prompt_tokens":1e308,"completion_tokens":1e308,"total_tokens":1}',
        '{"prompt_tokens":-5,"completion_tokens":7}',
        '{"prompt_tokens":2.5,"completion_tokens":7}',
        '{"prompt_tokens":"11","completion_tokens":7}',
        '{"prompt_tokens":100000001,"completion_tokens":0}',
      ];
      for (const report of reports) {
        assert.equal((await infer(h, key, chat(PUBLIC, `usage ${report}`))).status, 200, report);
        assert.equal((await sseData(await infer(h, key, chat(PUBLIC, `usage ${report}`, { stream: true })))).at(-1), "[DONE]", report);
      }
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const usage = await until("the calls to be metered", async () => {
        const res = await h.call("GET", `/v1/accounts/huge-usage/billingUsage?startTime=${since}`, { key: acct.admin });
        return res.body.usage?.[0]?.requestCount === 2 * reports.length ? res.body.usage[0] : undefined;
      });
      assert.ok(Number.isSafeInteger(usage.promptTokens) && usage.promptTokens > 0 && usage.promptTokens < 1000, JSON.stringify(usage));
      assert.ok(Number.isSafeInteger(usage.completionTokens) && usage.completionTokens < 1000, JSON.stringify(usage));
      assert.ok(Number.isFinite(usage.costUsd), JSON.stringify(usage));
      const spend = await h.call("GET", "/v1/accounts/huge-usage/quotas/monthly-spend-usd", { key: acct.admin });
      assert.ok(Number.isFinite(spend.body.usage), JSON.stringify(spend.body));
      assert.equal((await infer(h, key, chat(PUBLIC))).status, 200, "the account is not blocked by what a backend claimed");
    });

    test("an upstream that hangs gets a time-out error, not a hang; a failing one a clear 502", async () => {
      const started = Date.now();
      const hung = await infer(h, bot.key, chat(PUBLIC, "please hang"));
      assert.equal(hung.status, 504);
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual((await hung.json()) as any, {
        error: { message: 'backend "local" did not answer within 1500 ms', type: "timeout_error", code: "upstream_timeout", param: null },
      });
      const hungStream = await infer(h, bot.key, chat(PUBLIC, "hang", { stream: true }));
      assert.equal(hungStream.status, 504);
      const stalled = await infer(h, bot.key, chat(PUBLIC, "stall", { stream: true }));
      assert.equal(stalled.status, 200, "the stream had begun");
      const events = await sseData(stalled);
      assert.equal(JSON.parse(events[0]!).choices[0].delta.content, "Hello");
      assert.deepEqual(
        JSON.parse(events.at(-1)!).error,
        {
          message: 'backend "local" fell silent for 1500 ms mid-stream',
          type: "timeout_error",
          code: "upstream_timeout",
          param: null,
        },
        "a stream that falls silent ends with an error event",
      );
      const failed = await infer(h, bot.key, chat(PUBLIC, "fail"));
      assert.equal(failed.status, 502);
      assert.equal(((await failed.json()) as any).error.message, 'backend "local" answered 500: the GPU caught fire');
      // Audited as answered (502, 504 and the sentence), not as an internal error of Hearth's.
      const entries = await h.deps.store.db
        .selectFrom("audit_logs")
        .select(["status_code", "status_message"])
        .where("account_id", "=", h.accountId)
        .where("method", "=", "CreateChatCompletion")
        .orderBy("seq", "desc")
        .limit(3)
        .execute();
      assert.deepEqual(
        entries.map((e) => [e.status_code, e.status_message]),
        [
          [502, 'UNAVAILABLE: backend "local" answered 500: the GPU caught fire'],
          [504, 'DEADLINE_EXCEEDED: backend "local" did not answer within 1500 ms'],
          [504, 'DEADLINE_EXCEEDED: backend "local" did not answer within 1500 ms'],
        ],
      );
      const [entry] = await auditEntries(h, 'method="CreateChatCompletion"');
      assert.equal(entry.status.code, "UNAVAILABLE");
    });

    test("a backend answer that is not a JSON object is a 502, and mid-stream an error event after the good chunks", async () => {
      const garbage = ["[1,2]", "null", '"text"', "42", "<html>oops</html>", "{oops}", '{"a":1'];
      for (const body of garbage) {
        const before = up.requests.length;
        const plain = await infer(h, bot.key, chat(PUBLIC, `garbled ${body}`));
        assert.equal(up.requests.length, before + 1, "the backend was asked");
        assert.equal(plain.status, 502, body);
        assert.deepEqual(((await plain.json()) as any).error, {
          message: 'backend "local" sent a response that is not a JSON object',
          type: "upstream_error",
          code: "upstream_error",
          param: null,
        });
        const streamed = await infer(h, bot.key, chat(PUBLIC, `garbled ${body}`, { stream: true }));
        assert.equal(streamed.status, 200, "the stream had begun");
        const events = await sseData(streamed);
        assert.equal(events.length, 2, `${body}: the chunk before, then the error; nothing after it: ${JSON.stringify(events)}`);
        assert.equal(JSON.parse(events[0]!).choices[0].delta.content, "before");
        assert.equal(JSON.parse(events[0]!).model, PUBLIC);
        assert.deepEqual(JSON.parse(events[1]!).error, {
          message: 'backend "local" sent a stream event that is not a JSON object',
          type: "upstream_error",
          code: "upstream_error",
          param: null,
        });
      }
    });

    test("a stream ends at [DONE] or at an error object: nothing a backend sends after either reaches the client", async () => {
      const error = '{"error":{"message":"busy","type":"server_error"}}';
      for (const [middle, last] of [
        ["[DONE]", "[DONE]"],
        ["[DONE] ", "[DONE]"],
        [error, error],
      ] as const) {
        const events = await sseData(await infer(h, bot.key, chat(PUBLIC, `garbled ${middle}`, { stream: true })));
        assert.equal(events.length, 2, `${middle}: ${JSON.stringify(events)}`);
        assert.equal(JSON.parse(events[0]!).choices[0].delta.content, "before");
        assert.equal(events[1], last);
      }
    });

    test("a stream the backend ends without [DONE]: after every choice finished it gets [DONE], before that an error event; both are metered", async () => {
      const acct = await account(h, "undone-acct", { worker: "user" });
      const whole = await sseData(await infer(h, acct.keys.worker!, chat(PUBLIC, "no-done", { stream: true })));
      assert.deepEqual(
        whole.slice(0, -1).map((e) => JSON.parse(e).choices[0].finish_reason),
        [null, null, "stop"],
      );
      assert.equal(whole.at(-1), "[DONE]");
      const cut = await sseData(await infer(h, acct.keys.worker!, chat(PUBLIC, "cut-short", { stream: true })));
      assert.equal(cut.length, 2, JSON.stringify(cut));
      assert.equal(JSON.parse(cut[0]!).choices[0].delta.content, "Hello");
      assert.deepEqual(JSON.parse(cut[1]!).error, {
        message: 'backend "local" ended the stream before its answer was complete',
        type: "upstream_error",
        code: "upstream_error",
        param: null,
      });
      // More content after the finish: the answer was not whole (found by attacking this change).
      const reopened = await sseData(await infer(h, acct.keys.worker!, chat(PUBLIC, "no-done-reopened", { stream: true })));
      assert.match(JSON.parse(reopened.at(-1)!).error.message, /ended the stream before its answer was complete/);
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const metered = async () =>
        (await h.call("GET", `/v1/accounts/undone-acct/billingUsage?startTime=${since}`, { key: acct.admin })).body.total?.requestCount;
      await until("the calls metered", async () => ((await metered()) === 3 ? true : undefined));
    });

    test("a backend that answers a streamed request with plain JSON is a 502 naming what it sent, not an empty stream", async () => {
      const res = await infer(h, bot.key, chat(PUBLIC, "unstreamed", { stream: true }));
      assert.equal(res.status, 502);
      assert.equal(((await res.json()) as any).error.message, 'backend "local" answered a streamed request with application/json, not text/event-stream');
      assert.equal((await infer(h, bot.key, chat(PUBLIC, "unstreamed"))).status, 200, "unasked, plain JSON is the answer");
    });

    test("a backend's event:, id: and retry: fields are dropped; its keep-alive comment is forwarded without its credential", async () => {
      const res = await infer(h, bot.key, chat(PUBLIC, "fielded", { stream: true }));
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.equal(/^(event|id|retry):/m.test(text), false, text);
      assert.equal(text.includes(UPSTREAM_SECRET), false);
      const blocks = text.split("\n\n").filter((b) => b !== "");
      assert.equal(blocks[0], ": keep-alive [redacted]");
      assert.ok(
        blocks.slice(1).every((b) => b.startsWith("data: ") && !b.includes("\n")),
        "every other event is one data line",
      );
      const chunks = blocks.slice(1, -1).map((b) => JSON.parse(b.slice(6)));
      assert.equal(chunks.map((c) => c.choices[0].delta.content).join(""), "Hello, world");
      assert.ok(chunks.every((c) => c.model === PUBLIC));
      assert.equal(blocks.at(-1), "data: [DONE]");

      // Data over two lines is one chunk: it goes out as one line, named as requested.
      const split = await infer(
        h,
        bot.key,
        chat(PUBLIC, 'garbled {"object":"chat.completion.chunk","model":"up",\ndata: "choices":[{"index":0,"delta":{"content":"mid"}}]}', { stream: true }),
      );
      const events = await sseData(split);
      assert.equal(events.length, 4, JSON.stringify(events));
      assert.equal(events[1]!.includes("\n"), false);
      assert.deepEqual(JSON.parse(events[1]!), { object: "chat.completion.chunk", model: PUBLIC, choices: [{ index: 0, delta: { content: "mid" } }] });
    });

    test("a client that disconnects mid-stream cancels the upstream request", async () => {
      const before = up.cancelled;
      const controller = new AbortController();
      const res = await infer(h, bot.key, chat(PUBLIC, "slow", { stream: true }), undefined, controller.signal);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^data: /, "chunks arrive while the upstream is still writing");
      controller.abort();
      await until("the backend to see its call cancelled", async () => (up.cancelled > before ? true : undefined), 5_000);
      assert.equal(up.open, 0);
    });

    test("the backend credential never reaches a client, a log or the audit log; the client's key never reaches the backend", async () => {
      const seen: string[] = [];
      for (const url of [`${A}/models/tiny`, "/v1/accounts/fireworks/models", `${A}/deployments`, "/openapi.json"]) {
        const res = await h.call("GET", url);
        seen.push(JSON.stringify(res.body), JSON.stringify(res.headers));
      }
      const res = await infer(h, bot.key, chat(PUBLIC));
      seen.push(await res.text(), JSON.stringify([...res.headers]));
      const failed = await infer(h, bot.key, chat(PUBLIC, "fail"));
      seen.push(await failed.text());
      const audit = await h.call("GET", `${A}/auditLogs?pageSize=200`);
      seen.push(JSON.stringify(audit.body), h.logs.join(""));
      for (const text of seen) assert.equal(text.includes(UPSTREAM_SECRET), false);
      assert.ok(
        up.requests.some((r) => r.headers.authorization === `Bearer ${UPSTREAM_SECRET}`),
        "the backend does get it",
      );
      for (const r of up.requests) assert.equal(JSON.stringify(r.headers).includes(bot.key.slice(3)), false);
    });

    test("bad inference requests are refused in OpenAI's error shape and audited", async () => {
      const missing = await infer(h, bot.key, chat("accounts/my-account/models/nope"));
      assert.equal(missing.status, 404);
      assert.deepEqual(((await missing.json()) as any).error.type, "not_found_error");
      const foreign = await infer(h, bot.key, chat("accounts/other/models/tiny"));
      assert.equal(foreign.status, 404, "another account's model reads as missing");
      const malformed = await infer(h, bot.key, chat("tiny"));
      assert.equal(malformed.status, 400);
      assert.match(((await malformed.json()) as any).error.message, /invalid model "tiny"/);
      const numbered = await infer(h, bot.key, { model: 42, messages: [{ role: "user", content: "hi" }] });
      assert.equal(numbered.status, 400);
      assert.match(((await numbered.json()) as any).error.message, /^model must be a string naming a model or deployment, .* not a number$/);
      const noModel = await infer(h, bot.key, { messages: [{ role: "user", content: "hi" }] });
      assert.equal(noModel.status, 400);
      assert.equal(((await noModel.json()) as any).error.message, 'missing request body field "model"');
      const noMessages = await infer(h, bot.key, { model: PUBLIC, messages: [] });
      assert.equal(noMessages.status, 400);
      const anon = await fetch(`${h.baseUrl}/inference/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chat(PUBLIC)),
      });
      assert.equal(anon.status, 401);
      assert.equal(((await anon.json()) as any).error.type, "authentication_error");
      const entries = await auditEntries(h, 'message="CreateChatCompletion" AND status:"NOT_FOUND"');
      assert.ok(entries.length >= 2);
      assert.equal(entries[0].principal, "bot@my-account.sa.hearth.local");
      const refusals = await auditEntries(h, 'message="CreateChatCompletion" AND status:"INVALID_ARGUMENT"');
      const messages = refusals.map((e: { status: { message: string } }) => e.status.message);
      assert.ok(
        messages.some((m: string) => m.startsWith("INVALID_ARGUMENT: model must be a string")),
        JSON.stringify(messages),
      );
      assert.ok(messages.includes('INVALID_ARGUMENT: missing request body field "model"'), JSON.stringify(messages));
    });

    test("an empty prompt (prompt: [], or an empty token array in a batch) is a 400 naming it on both paths, as messages: [] and input: [] are; nothing is forwarded or billed", async () => {
      const acct = await account(h, "empty-prompt", { worker: "user" });
      const key = acct.keys.worker!;
      const calls = up.requests.length;
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ["/completions", { model: PUBLIC, prompt: [] }, /prompt must not be empty/],
        ["/completions", { model: PUBLIC, prompt: [[]] }, /prompt must not hold an empty token array/],
        ["/completions", { model: PUBLIC, prompt: [[1, 2], []] }, /prompt must not hold an empty token array/],
        ["/embeddings", { model: PUBLIC, input: [] }, /input must not be empty/],
        ["/embeddings", { model: PUBLIC, input: [[]] }, /input must not hold an empty token array/],
        ["/chat/completions", { model: PUBLIC, messages: [] }, /messages must not be empty/],
      ];
      // The route's URL is answered in front of the framework; with a trailing slash, by the framework route.
      for (const [path, body, message] of cases) {
        for (const url of [`/inference/v1${path}`, `/inference/v1${path}/`]) {
          const res = await infer(h, key, body, url);
          const answer = (await res.json()) as any;
          assert.equal(res.status, 400, `${url} ${JSON.stringify(body)}: ${JSON.stringify(answer)}`);
          assert.equal(answer.error.type, "invalid_request_error");
          assert.match(answer.error.message, message, `${url} ${JSON.stringify(body)}`);
        }
      }
      assert.equal(up.requests.length, calls, "nothing was forwarded");
      const refused = await h.call(
        "GET",
        `/v1/accounts/empty-prompt/auditLogs?pageSize=50&filter=${encodeURIComponent('message="CreateCompletion" AND status:"INVALID_ARGUMENT"')}`,
        {
          key: acct.admin,
        },
      );
      assert.equal(refused.body.auditLogs.length, 6, "each refusal is audited");
      const usage = await h.call("GET", "/v1/accounts/empty-prompt/billingUsage", { key: acct.admin });
      assert.deepEqual(usage.body.usage, [], "nothing billed");
      // A string prompt, even an empty one, and a batch of strings still run.
      assert.equal((await infer(h, key, { model: PUBLIC, prompt: "" }, "/inference/v1/completions")).status, 200);
      assert.equal((await infer(h, key, { model: PUBLIC, prompt: ["a", "b"] }, "/inference/v1/completions")).status, 200);
    });
  });
}
