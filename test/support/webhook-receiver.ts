import { once } from "node:events";
import { createServer } from "node:http";

/** One request a receiver got: its headers (lower-case names) and raw body. */
export interface Received {
  headers: Record<string, string>;
  body: string;
}

/**
 * A webhook receiver on loopback: records every POST and answers `answer(n)` (n: 1-based count of
 * requests so far; default 200). `waitFor(n)` resolves once n requests arrived (10 s at most).
 */
export async function startReceiver(answer: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answer(received.length)).end();
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/hearth`,
    port,
    received,
    waitFor(n: number): Promise<void> {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the receiver got ${received.length} of ${n} requests`)), 10_000);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
