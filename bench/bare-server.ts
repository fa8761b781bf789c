import { readFileSync } from "node:fs";
import { createServer } from "node:http";

/**
 * The baseline server: bare `node:http`, no framework, no store. It answers each configured route
 * with a canned response (status, headers and JSON body copied from a real Hearth response), after
 * reading the request body as any server must. Run as a child: `node bench/bare-server.ts ROUTES PORT`.
 */
export interface CannedRoute {
  method: string;
  /** Regular expression matched against the path (query string removed). */
  path: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

if (import.meta.main) {
  const routes = (JSON.parse(readFileSync(process.argv[2]!, "utf8")) as CannedRoute[]).map((r) => ({
    ...r,
    pattern: new RegExp(r.path),
    headers: { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
  }));
  const port = Number(process.argv[3]);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const route = routes.find((r) => r.method === req.method && r.pattern.test(path));
    req.resume();
    req.on("end", () => {
      if (!route) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"error":{"code":404,"status":"NOT_FOUND","message":"no route"}}');
        return;
      }
      res.writeHead(route.status, route.headers);
      res.end(route.body);
    });
  });
  server.listen(port, "127.0.0.1", () => console.log(`bare listening on ${port}`));
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
