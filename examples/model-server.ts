import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A tiny OpenAI-compatible model server for trying Hearth without a GPU: `npm run example-backend`
 * listens on 127.0.0.1:`PORT` (default 8000) and serves `GET /v1/models`, `POST /v1/chat/completions`
 * (plain or SSE with `stream: true`), `POST /v1/completions` and `POST /v1/embeddings`. It answers
 * at once by repeating the prompt, and reports `usage` counted at four characters a token, so
 * Hearth meters and bills every call as it would a real model's.
 */
const MODEL = "example-chat";
const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function promptOf(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) return body.messages.map((m: { content?: unknown }) => String(m?.content ?? "")).join("\n");
  return Array.isArray(body.prompt) ? body.prompt.join("\n") : String(body.prompt ?? body.input ?? "");
}

function usage(prompt: string, answer: string) {
  const p = tokens(prompt);
  const c = tokens(answer);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function answer(path: string, body: Record<string, unknown>, res: ServerResponse): void {
  const created = Math.floor(Date.now() / 1000);
  const prompt = promptOf(body);
  if (path === "/v1/embeddings") {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const data = inputs.map((input, index) => ({ object: "embedding", index, embedding: [String(input).length, 0.5, -0.25] }));
    send(res, 200, { object: "list", model: MODEL, data, usage: { prompt_tokens: tokens(prompt), total_tokens: tokens(prompt) } });
    return;
  }
  const text = `You said: ${prompt.slice(-200)}`;
  if (path === "/v1/completions") {
    send(res, 200, {
      id: "cmpl-example",
      object: "text_completion",
      created,
      model: MODEL,
      choices: [{ index: 0, text, finish_reason: "stop" }],
      usage: usage(prompt, text),
    });
    return;
  }
  if (body.stream !== true) {
    const message = { role: "assistant", content: text };
    send(res, 200, {
      id: "chatcmpl-example",
      object: "chat.completion",
      created,
      model: MODEL,
      choices: [{ index: 0, message, finish_reason: "stop" }],
      usage: usage(prompt, text),
    });
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  // As OpenAI streams: finish_reason null on every piece, then an empty delta that says why it ended.
  const chunk = (delta: object, finish_reason: string | null = null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-example", object: "chat.completion.chunk", created, model: MODEL, choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
  for (const word of text.split(/(?<= )/)) res.write(chunk({ content: word }));
  res.write(chunk({}, "stop"));
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage)
    res.write(
      `data: ${JSON.stringify({ id: "chatcmpl-example", object: "chat.completion.chunk", created, model: MODEL, choices: [], usage: usage(prompt, text) })}\n\n`,
    );
  res.end("data: [DONE]\n\n");
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0]!;
  if (req.method === "GET" && path === "/v1/models") {
    send(res, 200, { object: "list", data: [{ id: MODEL, object: "model", created: 0, owned_by: "example" }] });
    return;
  }
  if (req.method !== "POST" || !["/v1/chat/completions", "/v1/completions", "/v1/embeddings"].includes(path)) {
    send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "invalid_request_error", code: "unknown_url" } });
    return;
  }
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(parts).toString("utf8")) as Record<string, unknown>;
    } catch {
      send(res, 400, { error: { message: "the body is not JSON", type: "invalid_request_error", code: "invalid_json" } });
      return;
    }
    answer(path, body, res);
  });
}

const port = Number(process.env.PORT ?? 8000);
const server = createServer(handle).listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`example model server on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/v1 (model "${MODEL}")`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
