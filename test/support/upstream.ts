import { once } from "node:events";
import { createServer, type Server } from "node:http";

/** A minimal OpenAI-compatible upstream on loopback, answering every chat completion with usage. */
export async function startUpstream(): Promise<{ baseUrl: string; server: Server; requests: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      count++;
      res.setHeader("content-type", "application/json");
      if (req.url?.endsWith("/models")) return res.end(JSON.stringify({ object: "list", data: [{ id: "tiny" }] }));
      res.end(
        JSON.stringify({
          id: `cmpl-${count}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: "tiny",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, server, requests: () => count };
}
