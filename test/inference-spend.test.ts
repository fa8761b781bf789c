import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { utcDay } from "../src/domain/pricing.ts";
import { addUsage } from "../src/store/usage.ts";
import { DIALECTS, openTestStore, type TestHearth } from "./support/hearth.ts";
import { account, chat, infer, setQuota, startPlatform } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { until } from "./support/until.ts";

/**
 * Issue 15 items 6 and 7, issue 14: what an inference call costs however it ends, a monthly budget
 * that concurrent calls cannot overshoot, and RPM refusals audited in aggregate.
 */
const PUBLIC = "accounts/fireworks/models/tiny-public";

/** A model at $1 a completion token and nothing for the prompt: with max_tokens 1, exactly $1 a call. */
async function dollarModel(h: TestHearth, accountId: string, admin: string): Promise<string> {
  const res = await h.call("POST", `/v1/accounts/${accountId}/models?modelId=dollar`, {
    key: admin,
    body: { model: { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 0, outputPricePerMillionTokens: 1_000_000 } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return `accounts/${accountId}/models/dollar`;
}

/** Usage metered earlier this month: `usd` on one row. */
async function alreadySpent(h: TestHearth, accountId: string, usd: number): Promise<void> {
  await addUsage(h.deps.store.db, {
    account_id: accountId,
    day: utcDay(Date.now()),
    model: "accounts/fireworks/models/earlier",
    principal: "earlier@example.com",
    api_key_id: "earlier",
    limits_key_id: "earlier",
    requests: 1,
    prompt_tokens: 0,
    completion_tokens: 0,
    spend_nano: Math.round(usd * 1e9),
  });
}

async function totalUsd(h: TestHearth, accountId: string, admin: string): Promise<any> {
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const usage = await h.call("GET", `/v1/accounts/${accountId}/billingUsage?startTime=${since}`, { key: admin });
  assert.equal(usage.status, 200, JSON.stringify(usage.body));
  return usage.body;
}

/** The server's access-log lines (one JSON object a line) of one request id. */
const accessLines = (h: TestHearth, requestId: string) =>
  h.logs
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((line) => line.msg === "request" && line.reqId === requestId);

for (const dialect of DIALECTS) {
  describe(`inference spend and metering (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("30 concurrent $1 calls against monthly-spend-usd 6 with $3.03 spent: at most 3 are admitted, the rest are 402 insufficient_quota", async () => {
      const acct = await account(h, "budget-acct", { spender: "user" });
      const model = await dollarModel(h, "budget-acct", acct.admin);
      await setQuota(h, "budget-acct", "monthly-spend-usd", 6, acct.admin);
      await alreadySpent(h, "budget-acct", 3.03);
      const before = up.requests.length;
      const answers = await Promise.all(
        Array.from({ length: 30 }, () =>
          infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1 })).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
        ),
      );
      const admitted = answers.filter((a) => a.status === 200).length;
      // $3.03 + $1 + $1 + $1 = $6.03: each admission saw less than $6 spent or reserved.
      assert.equal(admitted, 3);
      assert.equal(up.requests.length - before, 3, "refused calls never reach the backend");
      const refused = answers.filter((a) => a.status !== 200);
      assert.ok(refused.every((a) => a.status === 402));
      assert.deepEqual({ type: refused[0]!.body.error.type, code: refused[0]!.body.error.code }, { type: "insufficient_quota", code: "insufficient_quota" });
      assert.match(refused[0]!.body.error.message, /quota "monthly-spend-usd" exceeded: \$\d+\.\d{6} spent this month/);
      const usage = await totalUsd(h, "budget-acct", acct.admin);
      assert.equal(usage.total.costUsd, 6.03, "$33.03 before the reservation rule");
      // The reservations were settled: the budget is spent, not held.
      const again = await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1 }));
      assert.equal(again.status, 402);
      assert.match(((await again.json()) as any).error.message, /\$6\.030000 spent this month of \$6$/);
      await setQuota(h, "budget-acct", "monthly-spend-usd", 8, acct.admin);
      assert.equal((await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1 }))).status, 200, "a raised limit admits again");
    });

    test("a failed call releases its reservation", async () => {
      const acct = await account(h, "release-acct", { spender: "user" });
      const model = await dollarModel(h, "release-acct", acct.admin);
      await setQuota(h, "release-acct", "monthly-spend-usd", 1, acct.admin);
      // A reservation of $1 against a $1 limit: a held reservation would refuse every later call.
      for (let i = 0; i < 3; i++) assert.equal((await infer(h, acct.keys.spender!, chat(model, "fail", { max_tokens: 1 }))).status, 502);
      assert.equal((await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1 }))).status, 200);
    });

    /**
     * In a fresh account with monthly-spend-usd `limitUsd` and the $1-a-token model, sends `first`
     * (to `path`; it asks the backend to answer late), and while it is at the backend a $1 chat call:
     * asserts that call is refused with 402 naming `heldUsd` reserved, and that `first` succeeds.
     */
    async function heldWhileInFlight(
      accountId: string,
      limitUsd: number,
      first: (model: string) => Record<string, unknown>,
      path: string,
      heldUsd: number,
      why?: string,
    ) {
      const acct = await account(h, accountId, { spender: "user" });
      const model = await dollarModel(h, accountId, acct.admin);
      await setQuota(h, accountId, "monthly-spend-usd", limitUsd, acct.admin);
      const before = up.requests.length;
      const inFlight = infer(h, acct.keys.spender!, first(model), path);
      await until("the request at the backend", async () => (up.requests.length > before ? true : undefined), 5_000);
      const second = await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1 }));
      const refused = (await second.json()) as any;
      assert.equal(second.status, 402, JSON.stringify(refused));
      assert.match(refused.error.message, new RegExp(`\\$${heldUsd}\\.000000 reserved by calls in flight`), why);
      assert.equal((await inFlight).status, 200);
    }

    test("a call asking for n choices reserves n times max_tokens: a $3 call in flight refuses a second against a $2 limit", () =>
      heldWhileInFlight("choices-acct", 2, (model) => chat(model, "late", { max_tokens: 1, n: 3 }), "/inference/v1/chat/completions", 3));

    test("best_of and the larger of max_tokens and max_completion_tokens count: best_of 3 × max_tokens 2 holds $6 although max_completion_tokens is 1", () =>
      heldWhileInFlight(
        "bound-acct",
        5,
        (model) => ({ model, prompt: "late", best_of: 3, max_tokens: 2, max_completion_tokens: 1 }),
        "/inference/v1/completions",
        6,
        "$1 before: one choice of max_completion_tokens",
      ));

    test("a completions batch reserves for each of its prompts: three prompts × max_tokens 1 hold $3", () =>
      heldWhileInFlight(
        "batch-acct",
        3,
        (model) => ({ model, prompt: ["late", "late", "late"], max_tokens: 1 }),
        "/inference/v1/completions",
        3,
        "$1 before: the batch counted as one prompt",
      ));

    test("n and best_of below 1, max_tokens and max_completion_tokens below 0, and any of them not a whole number are refused, naming the field, before the backend", async () => {
      const acct = await account(h, "count-acct", { spender: "user" });
      const model = await dollarModel(h, "count-acct", acct.admin);
      const before = up.requests.length;
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ n: "50", max_tokens: 1 }, /field "n": n must be a whole number/],
        [{ n: 0, max_tokens: 1 }, /"n": n must be at least 1/],
        [{ max_tokens: 1.5 }, /"max_tokens": max_tokens must be a whole number/],
        [{ max_completion_tokens: "9" }, /"max_completion_tokens": max_completion_tokens must be a whole number/],
        [{ best_of: -2, max_tokens: 1 }, /"best_of": best_of must be at least 1/],
        [{ max_tokens: -1 }, /"max_tokens": max_tokens must be at least 0/],
        [{ max_completion_tokens: -1 }, /"max_completion_tokens": max_completion_tokens must be at least 0/],
      ];
      for (const [extra, message] of cases) {
        const res = await infer(h, acct.keys.spender!, chat(model, "hi", extra));
        const body = (await res.json()) as any;
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(body.error.message, message);
        assert.equal(body.error.type, "invalid_request_error");
      }
      assert.equal(up.requests.length, before, "nothing reached the backend");
      assert.equal(
        (await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1, n: null, max_completion_tokens: null }))).status,
        200,
        "null is unset",
      );
    });

    test("regression: max_tokens 0 (a prompt scored with echo, as OpenAI's legacy completions take it; Fireworks sets the field no minimum) reaches the backend and holds what a call without a limit holds", async () => {
      const acct = await account(h, "zero-acct", { spender: "user" });
      const client = new OpenAI({ apiKey: acct.keys.spender!, baseURL: `${h.baseUrl}/inference/v1`, maxRetries: 0 });
      const before = up.requests.length;
      const scored = await client.completions.create({ model: PUBLIC, prompt: "hi", max_tokens: 0, echo: true, logprobs: 1 });
      assert.equal(scored.object, "text_completion");
      await client.chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content: "hi" }], max_completion_tokens: 0 });
      assert.deepEqual(
        up.requests.slice(before).map((r: any) => [r.body.max_tokens, r.body.max_completion_tokens]),
        [
          [0, undefined],
          [undefined, 0],
        ],
        "sent on as given",
      );
      // The $1-a-token model declares no maxCostPerRequestUsd: a call without a limit reserves $1.
      await heldWhileInFlight("zero-held-acct", 1, (model) => ({ model, prompt: "late", max_tokens: 0, echo: true }), "/inference/v1/completions", 1);
    });

    test("a max_tokens whose cost overflows any counter is admitted like a large one, never a 500", async () => {
      const acct = await account(h, "overflow-acct", { spender: "user" });
      const model = await dollarModel(h, "overflow-acct", acct.admin);
      const res = await infer(h, acct.keys.spender!, chat(model, "hi", { max_tokens: 1e15, n: 1000 }));
      assert.equal(res.status, 200, await res.text());
    });

    test("the openai SDK gets a 402 for an exhausted budget and does not retry it", async () => {
      const acct = await account(h, "sdk-acct", { spender: "user" });
      await setQuota(h, "sdk-acct", "monthly-spend-usd", 1, acct.admin);
      await alreadySpent(h, "sdk-acct", 1);
      let attempts = 0;
      const client = new OpenAI({
        apiKey: acct.keys.spender!,
        baseURL: `${h.baseUrl}/inference/v1`,
        maxRetries: 2,
        fetch: (url, init) => {
          attempts++;
          return fetch(url, init);
        },
      });
      const error = await client.chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content: "hi" }] }).then(
        () => assert.fail("the call was admitted"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 402);
      assert.equal(error.code, "insufficient_quota");
      assert.equal(error.type, "insufficient_quota");
      assert.equal(attempts, 1, "a 402 is not retried");
    });

    test("without usage from the backend, the completion is estimated from the text generated, not the JSON around it", async () => {
      const acct = await account(h, "estimate-acct", { caller: "user" });
      const model = await dollarModel(h, "estimate-acct", acct.admin);
      // Answered whole, with a usage object that counts nothing ("usage {}"): "Hello, world" is 12 characters, 3 tokens.
      const whole = await infer(h, acct.keys.caller!, chat(model, "usage {}", { max_tokens: 100 }));
      assert.equal(whole.status, 200, await whole.text());
      await until("metered", async () => ((await totalUsd(h, "estimate-acct", acct.admin)).total.requestCount === 1 ? true : undefined), 5_000);
      assert.equal((await totalUsd(h, "estimate-acct", acct.admin)).total.completionTokens, 3, "about 50 when the whole JSON counted");

      // A stream of 500 words ("w0 ", "w1 ", …) the client leaves after some: the words it got, not their chunks' JSON.
      const controller = new AbortController();
      const res = await infer(h, acct.keys.caller!, chat(model, "slow", { stream: true, max_tokens: 1000 }), undefined, controller.signal);
      const reader = res.body!.getReader();
      let received = "";
      while ((received.match(/"content":"w\d+ "/g) ?? []).length < 40) received += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      await until("metered", async () => ((await totalUsd(h, "estimate-acct", acct.admin)).total.requestCount === 2 ? true : undefined), 5_000);
      const streamed = (await totalUsd(h, "estimate-acct", acct.admin)).total.completionTokens - 3;
      // 40 to 120 words of 3 to 5 characters before the abort took effect: at most 150 tokens; each chunk's JSON alone is about 35 tokens.
      assert.ok(streamed >= 10 && streamed <= 150, `${streamed} completion tokens metered`);
    });

    test("a client gone before the backend's headers is metered at the prompt estimate, streamed or not; every request has exactly one access-log line", async () => {
      const acct = await account(h, "gone-acct", { caller: "user" });
      /** Sends one call; `abortWhen` (checked every 10 ms) makes the client go away. Resolves with the status, 0 when gone. */
      const send = async (id: string, body: Record<string, unknown>, abortWhen?: () => boolean) => {
        const controller = new AbortController();
        const watch = abortWhen && setInterval(() => abortWhen() && controller.abort(), 10);
        try {
          const res = await fetch(`${h.baseUrl}/inference/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${acct.keys.caller!}`, "content-type": "application/json", "x-request-id": id },
            body: JSON.stringify(body),
            signal: controller.signal,
          });
          await res.arrayBuffer();
          return res.status;
        } catch {
          return 0;
        } finally {
          clearInterval(watch);
        }
      };
      /** True once the backend has received the `n`th request since now (it is working on the prompt). */
      const backendGot = (n: number) => {
        const before = up.requests.length;
        return () => up.requests.length >= before + n;
      };
      const messages = [{ role: "user", content: "late answer please" }];
      const estimate = Math.ceil(JSON.stringify(messages).length / 4);
      // The backend sends its headers 400 ms after it got the request; the client is gone as soon as it got it.
      assert.equal(await send("gone-plain", { model: PUBLIC, messages }, backendGot(1)), 0);
      assert.equal(await send("gone-stream", { model: PUBLIC, messages, stream: true }, backendGot(1)), 0);
      await until("both calls metered", async () => ((await totalUsd(h, "gone-acct", acct.admin)).total.requestCount === 2 ? true : undefined), 5_000);
      const usage = await totalUsd(h, "gone-acct", acct.admin);
      assert.deepEqual([usage.total.requestCount, usage.total.promptTokens, usage.total.completionTokens], [2, 2 * estimate, 0]);
      assert.equal(usage.total.costUsd, (2 * estimate * 1) / 1e6, "the prompt at the input price");

      // However a request ends, one line: answered, refused, failed upstream, gone before or during the answer.
      assert.equal(await send("ends-ok", chat(PUBLIC)), 200);
      assert.equal(await send("ends-bad", { model: PUBLIC, messages: [] }), 400);
      assert.equal(await send("ends-fail", chat(PUBLIC, "fail")), 502);
      const midStream = Date.now();
      assert.equal(await send("ends-mid-stream", chat(PUBLIC, "slow", { stream: true }), () => Date.now() - midStream > 300), 0);
      await until(
        "both calls' access-log lines",
        async () => (accessLines(h, "ends-mid-stream").length > 0 && accessLines(h, "gone-stream").length > 0 ? true : undefined),
        5_000,
      );
      await new Promise((r) => setTimeout(r, 600)); // a second line, if any, would have come by now
      const statuses: Record<string, number> = {
        "ends-ok": 200,
        "ends-bad": 400,
        "ends-fail": 502,
        "gone-plain": 499,
        "gone-stream": 499,
        "ends-mid-stream": 200,
      };
      for (const [id, status] of Object.entries(statuses)) {
        const lines = accessLines(h, id);
        assert.equal(lines.length, 1, `${id}: ${JSON.stringify(lines)}`);
        assert.equal(lines[0].status, status, id);
        assert.equal(lines[0].path, "/inference/v1/chat/completions");
      }
      assert.equal(accessLines(h, "gone-plain")[0].clientClosed, true);
    });
  });

  describe(`RPM refusals in the audit log (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("inference requests refused by serverless-inference-rpm are audited one by one three times per key and minute, then in one summary entry", async () => {
      // A run that straddles a minute boundary would split the tally in two: start early in one.
      const second = new Date().getUTCSeconds();
      if (second > 50) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
      const acct = await account(h, "flood-acct", { flooder: "user", other: "user" });
      await setQuota(h, "flood-acct", "serverless-inference-rpm", 2, acct.admin);
      for (let i = 0; i < 2; i++) assert.equal((await infer(h, acct.keys.flooder!, chat(PUBLIC))).status, 200);
      for (let i = 0; i < 12; i++) assert.equal((await infer(h, acct.keys.flooder!, chat(PUBLIC))).status, 429);
      for (let i = 0; i < 2; i++) assert.equal((await infer(h, acct.keys.other!, chat(PUBLIC))).status, 429);
      // A key's own rpm: its refusals are summed under that limit, not the account's quota.
      const limited = await account(h, "keyrpm-acct", {});
      assert.equal((await h.call("POST", "/v1/accounts/keyrpm-acct/users?userId=paced", { key: limited.admin, body: { serviceAccount: true } })).status, 200);
      const paced = await h.call("POST", "/v1/accounts/keyrpm-acct/users/paced/apiKeys", { key: limited.admin, body: { apiKey: { rpm: 1 } } });
      assert.equal(paced.status, 200, JSON.stringify(paced.body));
      assert.equal((await infer(h, paced.body.key, chat(PUBLIC))).status, 200);
      for (let i = 0; i < 7; i++) assert.equal((await infer(h, paced.body.key, chat(PUBLIC))).status, 429);
      const filter = encodeURIComponent('status:"RESOURCE_EXHAUSTED"');
      const listed = await h.call("GET", `/v1/accounts/flood-acct/auditLogs?pageSize=200&filter=${filter}`, { key: acct.admin });
      const byPrincipal = (email: string) => listed.body.auditLogs.filter((e: any) => e.principal === email && e.method === "CreateChatCompletion");
      assert.equal(byPrincipal("flooder@flood-acct.sa.hearth.local").length, 3, "the first three one by one, not twelve");
      assert.equal(byPrincipal("other@flood-acct.sa.hearth.local").length, 2, "each key has its own count");

      // The summary is written when the minute ends, or when the server stops.
      await h.close();
      const store = await openTestStore(h.env);
      try {
        const rows = await store.db
          .selectFrom("audit_logs")
          .selectAll()
          .where("account_id", "=", "flood-acct")
          .where("method", "=", "RateLimitedInferenceRequests")
          .execute();
        assert.equal(rows.length, 1, "one summary for the flooding key, none for the other");
        const row = rows[0] as any;
        assert.equal(row.principal, "flooder@flood-acct.sa.hearth.local");
        assert.match(
          String(row.status_message),
          /^RESOURCE_EXHAUSTED: 9 more inference requests refused by quota "serverless-inference-rpm" in the minute from /,
        );
        assert.deepEqual(JSON.parse(row.payload).clientIps, ["127.0.0.1"], "the addresses of the refusals it stands for");
        assert.deepEqual([row.user_agent, row.client_ip], ["", ""], "not one request's");
        const [keyLimit] = await store.db
          .selectFrom("audit_logs")
          .selectAll()
          .where("account_id", "=", "keyrpm-acct")
          .where("method", "=", "RateLimitedInferenceRequests")
          .execute();
        assert.match(String(keyLimit!.status_message), /^RESOURCE_EXHAUSTED: 4 more inference requests refused by API key limit "rpm" in the minute from /);
        assert.equal(JSON.parse(keyLimit!.payload).limit, 'API key limit "rpm"');
      } finally {
        await store.close();
      }
    });
  });
}
