import { Agent, createServer, request, type IncomingHttpHeaders } from "node:http";

/**
 * The physical baseline of item 7: a do-nothing `node:http` forwarding proxy with a keep-alive
 * pool. Each request goes to the same path on the upstream with its headers (minus hop-by-hop
 * ones) and body piped through; the answer is piped back, streamed bodies chunk by chunk. No
 * parsing, no authentication, no metering: what any gateway on this machine must pay at least.
 * Run as a child: `node bench/forward-proxy.ts UPSTREAM_ORIGIN PORT`.
 */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

if (import.meta.main) {
  const upstream = new URL(process.argv[2]!);
  const port = Number(process.argv[3]);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...endToEnd(req.headers), host: upstream.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    out.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end('{"error":{"message":"upstream unreachable"}}');
    });
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, "127.0.0.1", () => console.log(`forward proxy listening on ${port}`));
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
