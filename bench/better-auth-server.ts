import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { setUpBetterAuth } from "./better-auth.ts";
import { importDep } from "./deps.ts";

/**
 * Item 5 over HTTP: better-auth's API-key plugin behind the same kind of bare `node:http` server as
 * item 1's baseline. `GET /verifyApiKey` with `Authorization: Bearer <key>` answers 200 with the
 * key's user id in a header, 401 otherwise; `GET /api/auth/get-session` with `x-api-key: <key>` goes
 * through better-auth's own HTTP handler (its router, hooks and the plugin's session for the key). Run as a child: `node bench/better-auth-server.ts DIR KEYS PORT`;
 * it writes its keys to `DIR/better-auth-keys.json` before it listens.
 */
if (import.meta.main) {
  const [dir, keyCount, port] = process.argv.slice(2) as [string, string, string];
  const { auth, keys } = await setUpBetterAuth(dir, Number(keyCount));
  writeFileSync(join(dir, "better-auth-keys.json"), JSON.stringify(keys));
  // better-auth's own HTTP handler, for `GET /api/auth/get-session` with `x-api-key`: its routing, hooks and the plugin's key check.
  const { toNodeHandler } = (await importDep("better-auth", "./node")) as {
    toNodeHandler: (auth: unknown) => (req: IncomingMessage, res: ServerResponse) => void;
  };
  const handler = toNodeHandler(auth);
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/api/auth/")) return handler(req, res);
    req.resume();
    const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (req.method !== "GET" || req.url !== "/verifyApiKey" || !key) {
      res.writeHead(401).end();
      return;
    }
    (auth.api.verifyApiKey({ body: { key } }) as Promise<{ valid: boolean; key?: { userId: string } }>).then(
      (r) => {
        if (r?.valid === true) res.writeHead(200, { "x-user-id": r.key?.userId ?? "", "cache-control": "no-store" }).end();
        else res.writeHead(401).end();
      },
      () => res.writeHead(500).end(),
    );
  });
  server.listen(Number(port), "127.0.0.1", () => console.log(`better-auth listening on ${port}`));
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
