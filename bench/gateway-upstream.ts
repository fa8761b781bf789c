import { createServer } from "node:http";

/**
 * The upstream of `bench/gateway.ts`: an OpenAI-compatible server that answers at once (plain
 * JSON, or SSE when asked), reporting usage, so what is measured is the gateway and not a model.
 * Run as its own process: `node bench/gateway-upstream.ts [PORT]`; prints the port it listens on.
 */
const USAGE = { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 };
const chunk = (content: string) => `data: ${JSON.stringify({ id: "b", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;

const server = createServer((req, res) => {
  let raw = "";
  req.on("data", (d) => (raw += d));
  req.on("end", () => {
    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[{"id":"bench"}]}');
      return;
    }
    const body = JSON.parse(raw || "{}") as { stream?: boolean; stream_options?: { include_usage?: boolean } };
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const w of ["Hello", ", ", "world", "!"]) res.write(chunk(w));
      if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: "b", choices: [], usage: USAGE })}\n\n`);
      res.end("data: [DONE]\n\n");
      return;
    }
    const answer = {
      id: "b",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello, world!" }, finish_reason: "stop" }],
      usage: USAGE,
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
