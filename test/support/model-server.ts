import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A real OpenAI-compatible model server on loopback, owned by the test: chat and text completions,
 * streaming (SSE) and plain, reporting `usage`. What the prompt says steers it: "hang" never
 * answers, "slow" streams a chunk every 20 ms for ten seconds, "stall" streams one chunk and then
 * falls silent, "fail" answers 500, "late" sends its headers only after 400 ms. "echo-auth" answers with an error that repeats the
 * Authorization header it received, as some real servers do: a 500 JSON error, "echo-auth-400" a 400
 * JSON error, "echo-auth-text" a 500 plain-text body, and with `stream: true` an SSE error event
 * after the first chunk. "echo-auth-encoded" (with the same "-400", "-text" and stream variants,
 * plus "-200" for a successful answer) repeats the key in encoded spellings (`encodedSpellings`).
 * "overloaded" answers 429 with `retry-after` and `retry-after-ms` (`RETRY_AFTER`); "overloaded-once"
 * does so the first time it sees that exact prompt only. "unnamed" leaves `model` out of its answer and
 * of every stream chunk, as some servers do. "usage {…}" reports that object as its usage. "unstreamed"
 * answers plain JSON even when asked for a stream; "no-done" ends a whole stream without `[DONE]` ("no-done-reopened": with one more piece after the finish),
 * "cut-short" ends it cleanly after its first chunk. "garbled <text>" answers `<text>` as its whole body, or
 * with `stream: true` sends it as the data of the second of three events (`GARBLED`). "fielded" adds
 * `event:`, `id:` and `retry:` fields and a comment to every stream event, and sends a comment-only
 * keep-alive first. "chatty" goes on sending comments every 50 ms for ten seconds after its `[DONE]`.
 * "perf-headers" adds Fireworks' performance headers to a successful answer (`PERFORMANCE_HEADERS`),
 * with one that names a key and one of its own that must not be relayed.
 * `/v1/embeddings` answers one small vector per input.
 */
export interface FakeUpstream {
  baseUrl: string;
  /** Every request it received: path, headers and parsed body. */
  requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: any }>;
  /** Streams the client side closed before they were finished. */
  cancelled: number;
  /** Requests still open. */
  open: number;
  /** TCP connections it accepted (a client that keeps its connections alive opens few). */
  connections: number;
  /** When set, GET /v1/models answers this status; 0: it never answers (a backend that hangs). */
  modelsStatus: number;
  close(): Promise<void>;
}

export const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

/** The retry headers of an "overloaded" 429: a wait longer than the OpenAI SDK's default first backoff (0.5 s), shorter than the AI SDK's (2 s). */
export const RETRY_AFTER = { "retry-after": "1", "retry-after-ms": "700" };

/** Fireworks' per-request performance headers, as a Fireworks backend sends them ("perf-headers"). */
export const PERFORMANCE_HEADERS = { "fireworks-prompt-tokens": "11", "fireworks-server-time-to-first-token": "0.012", "fireworks-sampling-options": "{}" };
const NOT_RELAYED = { "fireworks-api-key-id": "backend-key-1", "x-backend-node": "gpu-7" };

/** What the fake embeds each input as: its length, then two constants. */
export const embeddingOf = (input: unknown): number[] => [String(input).length, 0.5, -0.25];

function promptText(body: any): string {
  if (Array.isArray(body?.messages)) return body.messages.map((m: any) => String(m?.content ?? "")).join(" ");
  if (body?.input !== undefined) return JSON.stringify(body.input);
  return String(body?.prompt ?? "");
}

export async function startUpstream(): Promise<FakeUpstream> {
  const state: FakeUpstream = { baseUrl: "", requests: [], cancelled: 0, open: 0, connections: 0, modelsStatus: 200, close: async () => undefined };
  const refusedOnce = new Set<string>();
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    state.open += 1;
    res.on("close", () => {
      state.open -= 1;
      if (!res.writableFinished) state.cancelled += 1;
    });
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    const path = req.url ?? "";
    state.requests.push({ path, headers: req.headers, body });
    if (req.method === "GET" && path === "/v1/models") {
      if (state.modelsStatus === 0) return;
      res.writeHead(state.modelsStatus, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "tiny-upstream", object: "model" }] }));
      return;
    }
    if (req.method !== "POST" || !["/v1/chat/completions", "/v1/completions", "/v1/embeddings"].includes(path)) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "no such route" } }));
      return;
    }
    const text = promptText(body);
    if (text.includes("hang")) return; // never answers
    if (text.includes("overloaded") && !(text.includes("overloaded-once") && refusedOnce.has(text))) {
      refusedOnce.add(text);
      res.writeHead(429, { "content-type": "application/json", ...RETRY_AFTER });
      res.end(JSON.stringify({ error: { message: "too many requests, slow down", type: "rate_limit_error" } }));
      return;
    }
    if (path === "/v1/embeddings") {
      const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
      // OpenAI's base64 encoding (the OpenAI SDK's default): the float32 values, little-endian.
      const encode = (v: number[]) => (body.encoding_format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v);
      const data = inputs.map((input, index) => ({ object: "embedding", index, embedding: encode(embeddingOf(input)) }));
      const usage = { prompt_tokens: 5 * inputs.length, total_tokens: 5 * inputs.length };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", model: body.model, data, usage }));
      return;
    }
    if (text.includes("late")) await new Promise((r) => setTimeout(r, 400));
    if (res.destroyed) return;
    if (text.includes("echo-auth-encoded")) {
      const key = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      const said = encodedEcho(key);
      if (text.includes("echo-auth-encoded-200")) {
        // Hand-written JSON: the key spelled with JSON escapes, which JSON.stringify would not produce.
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          `{"id":"c1","object":"chat.completion","model":"${body.model}","choices":[{"index":0,"message":{"role":"assistant","content":"${said}"},"finish_reason":"stop"}],"usage":${JSON.stringify(USAGE)}}`,
        );
      } else if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }] })}\n\n`,
        );
        res.end(`data: {"error":{"message":"${said}","type":"server_error"}}\n\n`);
      } else if (text.includes("echo-auth-encoded-text")) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(said);
      } else {
        res.writeHead(text.includes("echo-auth-encoded-400") ? 400 : 500, { "content-type": "application/json" });
        res.end(`{"error":{"message":"key ${key} ${said}"}}`);
      }
      return;
    }
    if (text.includes("echo-auth")) {
      const said = `you sent authorization=${req.headers.authorization ?? ""}`;
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }] })}\n\n`,
        );
        res.end(`data: ${JSON.stringify({ error: { message: said, type: "server_error" } })}\n\n`);
      } else if (text.includes("echo-auth-text")) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(said);
      } else {
        res.writeHead(text.includes("echo-auth-400") ? 400 : 500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: said } }));
      }
      return;
    }
    if (text.includes("fail")) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the GPU caught fire" } }));
      return;
    }
    const garbled = /^garbled (.*)$/s.exec(text)?.[1];
    if (garbled !== undefined) {
      const good = (content: string) =>
        `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;
      if (!body.stream) res.writeHead(200, { "content-type": "application/json" }).end(garbled);
      else res.writeHead(200, { "content-type": "text/event-stream" }).end(`${good("before")}data: ${garbled}\n\n${good("after")}data: [DONE]\n\n`);
      return;
    }
    // "usage {…}": the usage reported is that object, whatever it holds.
    const reported = /^usage (\{.*\})$/s.exec(text)?.[1];
    const reportedUsage: unknown = reported === undefined ? undefined : JSON.parse(reported);
    const chat = path === "/v1/chat/completions";
    // The last piece says why the stream ended, as a real server's does.
    const named = text.includes("unnamed") ? {} : { model: body.model };
    const piece = (content: string, last = false) => {
      const finish_reason = last ? "stop" : null;
      return chat
        ? { id: "c1", object: "chat.completion.chunk", ...named, choices: [{ index: 0, delta: { content }, finish_reason }] }
        : { id: "c1", object: "text_completion", ...named, choices: [{ index: 0, text: content, finish_reason }] };
    };
    const extra = text.includes("perf-headers") ? { ...PERFORMANCE_HEADERS, ...NOT_RELAYED } : {};
    if (body.stream && !text.includes("unstreamed")) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...extra });
      const words = text.includes("slow") ? Array.from({ length: 500 }, (_, i) => `w${i} `) : ["Hello", ", ", "world"];
      const fields = text.includes("fielded") ? `event: thread.message.delta\nid: 7\nretry: 1\n: ${UPSTREAM_SECRET}\n` : "";
      if (fields) res.write(`: keep-alive ${UPSTREAM_SECRET}\n\n`);
      for (const [i, w] of words.entries()) {
        if (res.destroyed) return;
        if (text.includes("stall") && w !== words[0]) return; // one chunk, then silence
        if (text.includes("cut-short") && w !== words[0]) return void res.end(); // one chunk, then a clean end
        res.write(`${fields}data: ${JSON.stringify(piece(w, i === words.length - 1))}\n\n`);
        if (text.includes("slow")) await new Promise((r) => setTimeout(r, 20));
      }
      if (body.stream_options?.include_usage)
        res.write(`data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", ...named, choices: [], usage: reportedUsage ?? USAGE })}\n\n`);
      // "no-done-reopened": after the finish, one more piece of the same choice, unfinished.
      if (text.includes("no-done-reopened")) res.write(`data: ${JSON.stringify(piece("more"))}\n\n`);
      if (text.includes("chatty")) {
        res.write("data: [DONE]\n\n");
        for (let i = 0; i < 200 && !res.destroyed; i++) {
          res.write(": still here\n\n");
          await new Promise((r) => setTimeout(r, 50));
        }
        return void res.end();
      }
      res.end(text.includes("no-done") ? undefined : "data: [DONE]\n\n");
      return;
    }
    const choice = chat
      ? { index: 0, message: { role: "assistant", content: "Hello, world" }, finish_reason: "stop" }
      : { index: 0, text: "Hello, world", finish_reason: "stop" };
    // Like a real server, it reports no more completion tokens than max_tokens allowed.
    const max = body.max_tokens ?? body.max_completion_tokens;
    const usage =
      typeof max === "number" && max < USAGE.completion_tokens ? { ...USAGE, completion_tokens: max, total_tokens: USAGE.prompt_tokens + max } : USAGE;
    res.writeHead(200, { "content-type": "application/json", ...extra });
    res.end(JSON.stringify({ id: "c1", object: chat ? "chat.completion" : "text_completion", ...named, choices: [choice], usage: reportedUsage ?? usage }));
  });
  server.on("connection", () => (state.connections += 1));
  // Long enough for a client to keep its sockets: Node's agent keeps one for the Keep-Alive hint less a second.
  server.keepAliveTimeout = 5000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  state.baseUrl = `http://127.0.0.1:${port}/v1`;
  state.close = async () => {
    server.closeAllConnections();
    server.close();
  };
  return state;
}

/** `key` as JSON escapes spell it (`\u0073`, `\/`); valid inside a JSON string. */
export const jsonEscapedKey = (key: string): string => key.replace(/s/g, "\\u0073").replace(/\//g, "\\/");

/**
 * The encoded spellings of `key` that "echo-auth-encoded" repeats, each valid inside a JSON
 * string: base64 and base64url of the key and of `Bearer <key>`, `Basic` credentials holding it,
 * percent-encoding in both hex cases, hex, and JSON escapes.
 */
export function encodedSpellings(key: string): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return {
    b64: b64(key),
    b64url: Buffer.from(key).toString("base64url"),
    bearer64: b64(`Bearer ${key}`),
    basic: `Basic ${b64(`svc:${key}`)}`,
    url: encodeURIComponent(key),
    urlLower: encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    hex: Buffer.from(key).toString("hex"),
    json: jsonEscapedKey(key),
  };
}

function encodedEcho(key: string): string {
  return Object.entries(encodedSpellings(key))
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
}

export const UPSTREAM_SECRET = "upstream-secret-do-not-leak";

/** Writes a HEARTH_CONFIG file naming `upstream` as backend "local" (credential `secret`) in `dir`. */
export function writePlatformConfig(
  dir: string,
  upstream: FakeUpstream,
  extra: Record<string, unknown> = {},
  secret = UPSTREAM_SECRET,
  closedPort = 1,
): string {
  const file = join(dir, "platform.json");
  writeFileSync(
    file,
    JSON.stringify({
      publicAccountId: "fireworks",
      backends: [
        {
          name: "local",
          baseUrl: upstream.baseUrl,
          apiKey: secret,
          timeoutMs: 1500,
          models: [
            { id: "tiny-public", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1, outputPricePerMillionTokens: 2 },
            { id: "nomic-embed-text-v1-5", upstreamModel: "nomic-ai/nomic-embed-text-v1.5", kind: "EMBEDDING_MODEL", inputPricePerMillionTokens: 0.008 },
          ],
        },
        { name: "nowhere", baseUrl: `http://127.0.0.1:${closedPort}/v1`, timeoutMs: 500 },
      ],
      deployments: { probeTimeoutMs: 1000 },
      ...extra,
    }),
  );
  return file;
}
