import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createFireworks } from "@ai-sdk/fireworks";
import { APICallError, embed, embedMany, generateText, streamText } from "ai";
import OpenAI from "openai";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { account, setQuota, startPlatform } from "./support/platform.ts";
import { embeddingOf, PERFORMANCE_HEADERS, RETRY_AFTER, USAGE, type FakeUpstream } from "./support/model-server.ts";

/**
 * Hearth driven by the client libraries people point at Fireworks, unchanged but for the base URL:
 * the `openai` SDK and the AI SDK's Fireworks provider, against a listening Hearth whose backend is
 * a model server on loopback.
 */

const PUBLIC = "accounts/fireworks/models/tiny-public";
const EMBED = "accounts/fireworks/models/nomic-embed-text-v1-5";
const OWN = "accounts/my-account/models/tiny";

/** The error a call rejects with (failing when it resolves). */
async function refusal(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => assert.fail("the call succeeded"),
    (error: unknown) => error,
  );
}

for (const dialect of DIALECTS) {
  describe(`OpenAI and Fireworks client libraries (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let openai: (base?: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>) => OpenAI;
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      const made = await h.call("POST", "/v1/accounts/my-account/models?modelId=tiny", {
        body: { model: { backend: "local", upstreamModel: "tiny-upstream" } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      openai = (base = "/inference/v1", options = {}) => new OpenAI({ apiKey: h.adminKey, baseURL: `${h.baseUrl}${base}`, maxRetries: 0, ...options });
    });
    after(() => stop());

    test("the openai SDK runs chat, completions and embeddings; answers name the model as requested, not the backend's name", async () => {
      const client = openai();
      const chat = await client.chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content: "hi" }] });
      assert.equal(chat.choices[0]!.message.content, "Hello, world");
      assert.equal(chat.model, PUBLIC);
      assert.deepEqual(chat.usage, USAGE);
      assert.equal(up.requests.at(-1)!.body.model, "tiny-upstream", "the backend is asked under its own name");

      const text = await client.completions.create({ model: OWN, prompt: "Say hello" });
      assert.equal(text.choices[0]!.text, "Hello, world");
      assert.equal(text.model, OWN);

      // The SDK asks for base64 and decodes it; the values are the backend's.
      const vectors = await client.embeddings.create({ model: EMBED, input: ["a", "bbb"] });
      assert.equal(vectors.model, EMBED);
      assert.deepEqual(
        vectors.data.map((d) => [...d.embedding]),
        [embeddingOf("a"), embeddingOf("bbb")],
      );
      assert.equal(vectors.usage.prompt_tokens, 10);
      const sent = up.requests.at(-1)!;
      assert.equal(sent.path, "/v1/embeddings");
      assert.equal(sent.body.model, "nomic-ai/nomic-embed-text-v1.5");
      const floats = await client.embeddings.create({ model: EMBED, input: "abcd", encoding_format: "float" });
      assert.deepEqual(floats.data[0]!.embedding, embeddingOf("abcd"));
    });

    test("a stream names the requested model in every chunk and ends with the usage asked for", async () => {
      const stream = await openai().chat.completions.create({
        model: `${OWN}`,
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.ok(chunks.length >= 4);
      assert.deepEqual(new Set(chunks.map((c) => c.model)), new Set([OWN]));
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Hello, world");
      assert.deepEqual(chunks.at(-1)!.usage, USAGE);
    });

    test("a Fireworks backend's performance headers reach the client, plain and streamed; its other headers do not", async () => {
      // Regression: no backend response header was relayed, so Fireworks' fireworks-* headers (which its
      // SDK's perf_metrics_in_response documents on every non-streamed answer) never reached the client.
      const messages = [{ role: "user" as const, content: "perf-headers" }];
      const plain = await openai().chat.completions.create({ model: OWN, messages }).withResponse();
      const streamed = await openai().chat.completions.create({ model: OWN, messages, stream: true }).withResponse();
      for await (const _ of streamed.data);
      for (const { response } of [plain, streamed]) {
        for (const [name, value] of Object.entries(PERFORMANCE_HEADERS)) assert.equal(response.headers.get(name), value, name);
        assert.equal(response.headers.get("fireworks-api-key-id"), null);
        assert.equal(response.headers.get("x-backend-node"), null);
      }
    });

    test("a backend that names no model: the answer and every chunk still name the requested model, the rest as the backend sent it", async () => {
      const messages = [{ role: "user" as const, content: "unnamed" }];
      const chat = await openai().chat.completions.create({ model: OWN, messages });
      assert.equal(chat.model, OWN);
      assert.equal(chat.choices[0]!.message.content, "Hello, world");
      const stream = await openai().chat.completions.create({ model: OWN, messages, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.deepEqual(new Set(chunks.map((c) => c.model)), new Set([OWN]));
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Hello, world");
      assert.deepEqual(chunks.at(-1)!.usage, USAGE);

      // The member is added in front of the backend's own text, which is not serialised again.
      const raw = async (stream: boolean) => {
        const res = await fetch(`${h.baseUrl}/inference/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ model: OWN, messages, stream }),
        });
        assert.equal(res.status, 200);
        return res.text();
      };
      const named = `{"model":${JSON.stringify(OWN)},"id":"c1","object":"chat.completion`;
      assert.ok((await raw(false)).startsWith(named), "the answer keeps the backend's member order after the added model");
      const events = (await raw(true)).split("\n\n").filter((e) => e !== "" && e !== "data: [DONE]");
      assert.equal(events.length, 3);
      for (const event of events) assert.ok(event.startsWith(`data: ${named}.chunk"`), event);
    });

    test("a backend that sends no JSON object: the SDK gets a 502 APIError, mid-stream an APIError after the good chunk; event fields never reach it", async () => {
      const garbled = [{ role: "user" as const, content: "garbled <html>" }];
      const plain = await refusal(openai().chat.completions.create({ model: PUBLIC, messages: garbled }));
      assert.ok(plain instanceof OpenAI.InternalServerError);
      assert.equal(plain.status, 502);
      assert.equal(plain.message, '502 backend "local" sent a response that is not a JSON object');
      const contents: string[] = [];
      const broken = await refusal(
        (async () => {
          for await (const chunk of await openai().chat.completions.create({ model: PUBLIC, messages: garbled, stream: true })) {
            contents.push(chunk.choices[0]!.delta.content ?? "");
          }
        })(),
      );
      assert.deepEqual(contents, ["before"]);
      assert.ok(broken instanceof OpenAI.APIError);
      assert.equal(broken.message, 'backend "local" sent a stream event that is not a JSON object');
      // A backend's `event: thread.…` would make the SDK yield `{event, data}` instead of chunks.
      const fielded = await openai().chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content: "fielded" }], stream: true });
      const chunks = [];
      for await (const chunk of fielded) chunks.push(chunk);
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Hello, world");
      assert.deepEqual(new Set(chunks.map((c) => c.model)), new Set([PUBLIC]));
    });

    test("a backend that ends its stream without [DONE]: a whole answer ends as OpenAI's does, a cut-short one is an APIError, not a silent end", async () => {
      const stream = async (content: string) => {
        const contents: string[] = [];
        try {
          for await (const chunk of await openai().chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content }], stream: true })) {
            contents.push(chunk.choices[0]!.delta.content ?? "");
          }
          return { contents, ended: undefined };
        } catch (error) {
          return { contents, ended: error };
        }
      };
      const whole = await stream("no-done");
      assert.equal(whole.ended, undefined, "no error");
      assert.deepEqual(whole.contents, ["Hello", ", ", "world"]);
      const cut = await stream("cut-short");
      assert.deepEqual(cut.contents, ["Hello"]);
      assert.ok(cut.ended instanceof OpenAI.APIError, `the SDK reports the cut: ${String(cut.ended)}`);
      assert.equal(cut.ended.message, 'backend "local" ended the stream before its answer was complete');
    });

    test("embeddings are metered like chat, per key and model", async () => {
      const acct = await account(h, "embed-acct", { embedder: "user" });
      const client = new OpenAI({ apiKey: acct.keys.embedder!, baseURL: `${h.baseUrl}/inference/v1`, maxRetries: 0 });
      await client.embeddings.create({ model: EMBED, input: ["one", "two", "three"], encoding_format: "float" });
      const day = (ms: number) => `${new Date(ms).toISOString().slice(0, 10)}T00:00:00Z`;
      const range = `startTime=${day(Date.now())}&endTime=${day(Date.now() + 86_400_000)}`;
      const usage = await h.call("GET", `/v1/accounts/embed-acct/billingUsage?${range}`, { key: acct.admin });
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      const row = usage.body.usage.find((u: { model: string }) => u.model === EMBED);
      assert.ok(row, JSON.stringify(usage.body));
      assert.equal(Number(row.requestCount), 1);
      assert.equal(Number(row.promptTokens), 15);
      assert.equal(Number(row.completionTokens), 0);
    });

    test("models.list() shows the models the key may run, by Fireworks name; retrieve() takes a name with slashes", async () => {
      const client = openai();
      const listed = [];
      for await (const m of client.models.list()) listed.push(m);
      assert.deepEqual(
        listed.map((m) => m.id),
        [EMBED, PUBLIC, OWN].sort(),
      );
      const own = listed.find((m) => m.id === OWN)!;
      assert.equal(own.object, "model");
      assert.equal(own.owned_by, "my-account");
      assert.ok(Math.abs(own.created - Date.now() / 1000) < 600, `created ${own.created} is the model's creation time in seconds`);
      assert.deepEqual(await client.models.retrieve(PUBLIC), { id: PUBLIC, object: "model", created: 0, owned_by: "fireworks" });
      // Python's SDK sends the slashes as they are; the Node SDK percent-encodes them.
      const raw = await fetch(`${h.baseUrl}/inference/v1/models/${OWN}`, { headers: { authorization: `Bearer ${h.adminKey}` } });
      assert.equal(raw.status, 200);
      assert.equal(((await raw.json()) as { id: string }).id, OWN);

      // Another account's models are neither listed nor found.
      const other = await account(h, "lister-acct", { reader: "inference-user" });
      const theirs = new OpenAI({ apiKey: other.keys.reader!, baseURL: `${h.baseUrl}/inference/v1`, maxRetries: 0 });
      const seen = [];
      for await (const m of theirs.models.list()) seen.push(m.id);
      assert.deepEqual(seen, [EMBED, PUBLIC]);
      const hidden = await refusal(theirs.models.retrieve(OWN));
      assert.ok(hidden instanceof OpenAI.NotFoundError);
      assert.equal(hidden.code, "model_not_found");
    });

    test("errors are typed: 401, 402, 404, 400 for the wrong kind of model, 429 with the wait to honour", async () => {
      const unknownKey = await refusal(openai("/inference/v1", { apiKey: "not-a-key" }).models.list());
      assert.ok(unknownKey instanceof OpenAI.AuthenticationError);
      assert.equal(unknownKey.type, "authentication_error");
      assert.equal(typeof unknownKey.code, "string");

      const missing = await refusal(openai().chat.completions.create({ model: "accounts/fireworks/models/nope", messages: [{ role: "user", content: "hi" }] }));
      assert.ok(missing instanceof OpenAI.NotFoundError);
      assert.equal(missing.code, "model_not_found");
      assert.match(missing.message, /accounts\/fireworks\/models\/nope/);
      const notAName = await refusal(openai().models.retrieve("gpt-4o"));
      assert.ok(notAName instanceof OpenAI.NotFoundError);

      const wrongKind = await refusal(openai().embeddings.create({ model: PUBLIC, input: "hi" }));
      assert.ok(wrongKind instanceof OpenAI.BadRequestError);
      assert.match(wrongKind.message, /is not an embedding model/);
      const embedChat = await refusal(openai().chat.completions.create({ model: EMBED, messages: [{ role: "user", content: "hi" }] }));
      assert.ok(embedChat instanceof OpenAI.BadRequestError);
      assert.match(embedChat.message, /use \/embeddings/);

      const broke = await account(h, "broke-acct", { spender: "user" });
      await setQuota(h, "broke-acct", "monthly-spend-usd", 0, broke.admin);
      const spent = await refusal(
        new OpenAI({ apiKey: broke.keys.spender!, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 }).embeddings.create({ model: EMBED, input: "hi" }),
      );
      assert.ok(spent instanceof OpenAI.APIError);
      assert.equal(spent.status, 402);
      assert.equal(spent.code, "insufficient_quota");

      const busy = await account(h, "busy-acct", { caller: "user" });
      await setQuota(h, "busy-acct", "serverless-inference-rpm", 1, busy.admin);
      const client = new OpenAI({ apiKey: busy.keys.caller!, baseURL: `${h.baseUrl}/inference/v1`, maxRetries: 0 });
      await client.completions.create({ model: PUBLIC, prompt: "hi" });
      const limited = await refusal(client.completions.create({ model: PUBLIC, prompt: "hi" }));
      assert.ok(limited instanceof OpenAI.RateLimitError);
      assert.equal(limited.code, "rate_limit_exceeded");
      assert.match(limited.headers.get("retry-after") ?? "", /^\d+$/);
    });

    test("a backend's 429 keeps its retry-after; the openai SDK waits that long and then succeeds", async () => {
      const refused = await refusal(openai().chat.completions.create({ model: PUBLIC, messages: [{ role: "user", content: "overloaded" }] }));
      assert.ok(refused instanceof OpenAI.RateLimitError);
      assert.equal(refused.headers.get("retry-after"), RETRY_AFTER["retry-after"]);
      assert.equal(refused.headers.get("retry-after-ms"), RETRY_AFTER["retry-after-ms"]);

      const before = up.requests.length;
      const started = Date.now();
      const answer = await openai("/inference/v1", { maxRetries: 2 }).chat.completions.create({
        model: PUBLIC,
        messages: [{ role: "user", content: "overloaded-once openai" }],
      });
      const waited = Date.now() - started;
      assert.equal(answer.choices[0]!.message.content, "Hello, world");
      assert.equal(up.requests.length - before, 2, "one refusal, one retry");
      // The SDK's own first backoff is at most 0.5 s: waiting longer is the backend's retry-after-ms.
      assert.ok(waited >= Number(RETRY_AFTER["retry-after-ms"]), `retried after ${waited} ms`);
    });

    test("one client reaches the control plane and inference through the origin's /v1", async () => {
      const client = openai("/v1");
      const models = (await client.get("/accounts/my-account/models")) as { models: Array<{ name: string }> };
      assert.deepEqual(
        models.models.map((m) => m.name),
        [OWN],
      );
      const chat = await client.chat.completions.create({ model: OWN, messages: [{ role: "user", content: "hi" }] });
      assert.equal(chat.model, OWN);
      const text = await client.completions.create({ model: PUBLIC, prompt: "hi" });
      assert.equal(text.choices[0]!.text, "Hello, world");
      const vectors = await client.embeddings.create({ model: EMBED, input: "hi" });
      assert.deepEqual([...vectors.data[0]!.embedding], embeddingOf("hi"));
      const ids = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert.ok(ids.includes(OWN) && ids.includes(EMBED));
      assert.equal((await client.models.retrieve(EMBED)).id, EMBED);

      // Errors keep each surface's shape: OpenAI's on /v1/models/…, the control plane's on /v1/accounts/….
      const openAiShape = await fetch(`${h.baseUrl}/v1/models/accounts/fireworks/models/nope`, { headers: { authorization: `Bearer ${h.adminKey}` } });
      assert.equal(openAiShape.status, 404);
      const body = (await openAiShape.json()) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
      assert.equal(body.error.code, "model_not_found");
      const controlPlane = await refusal(client.get("/accounts/my-account/models/nope"));
      assert.ok(controlPlane instanceof OpenAI.NotFoundError);
      assert.equal((controlPlane.error as { status?: string }).status, "NOT_FOUND");
    });

    test("the AI SDK's Fireworks provider generates, streams with usage, and embeds through Hearth", async () => {
      const fireworks = createFireworks({ apiKey: h.adminKey, baseURL: `${h.baseUrl}/inference/v1` });
      const generated = await generateText({ model: fireworks(PUBLIC), prompt: "hi", maxRetries: 0 });
      assert.equal(generated.text, "Hello, world");
      assert.equal(generated.response.modelId, PUBLIC);
      assert.equal(generated.usage.inputTokens, USAGE.prompt_tokens);

      const completed = await generateText({ model: fireworks.completionModel(OWN), prompt: "hi", maxRetries: 0 });
      assert.equal(completed.text, "Hello, world");

      const streamed = streamText({ model: fireworks(OWN), prompt: "hi", maxRetries: 0 });
      let text = "";
      for await (const part of streamed.textStream) text += part;
      assert.equal(text, "Hello, world");
      assert.equal((await streamed.usage).outputTokens, USAGE.completion_tokens);
      assert.equal((await streamed.response).modelId, OWN);
      assert.equal(up.requests.at(-1)!.body.stream_options.include_usage, true);

      const one = await embed({ model: fireworks.embeddingModel(EMBED), value: "hello", maxRetries: 0 });
      assert.deepEqual(one.embedding, embeddingOf("hello"));
      assert.equal(one.usage.tokens, 5);
      const many = await embedMany({ model: fireworks.embeddingModel(EMBED), values: ["a", "bb"], maxRetries: 0 });
      assert.deepEqual(many.embeddings, [embeddingOf("a"), embeddingOf("bb")]);
    });

    test("the AI SDK reads Hearth's errors and honours a backend's retry-after", async () => {
      const denied = createFireworks({ apiKey: "not-a-key", baseURL: `${h.baseUrl}/inference/v1` });
      const unauthorized = await refusal(generateText({ model: denied(PUBLIC), prompt: "hi", maxRetries: 0 }));
      assert.ok(APICallError.isInstance(unauthorized));
      assert.equal(unauthorized.statusCode, 401);

      const fireworks = createFireworks({ apiKey: h.adminKey, baseURL: `${h.baseUrl}/v1` });
      const missing = await refusal(embed({ model: fireworks.embeddingModel("accounts/fireworks/models/nope"), value: "x", maxRetries: 0 }));
      assert.ok(APICallError.isInstance(missing));
      assert.equal(missing.statusCode, 404);
      assert.match(missing.message, /accounts\/fireworks\/models\/nope/);

      const started = Date.now();
      const retried = await generateText({ model: fireworks(PUBLIC), prompt: "overloaded-once ai-sdk", maxRetries: 1 });
      const waited = Date.now() - started;
      assert.equal(retried.text, "Hello, world");
      // The AI SDK's own first backoff is 2 s: a shorter wait is the backend's retry-after-ms.
      assert.ok(waited >= Number(RETRY_AFTER["retry-after-ms"]) && waited < 1900, `retried after ${waited} ms`);
    });
  });
}
