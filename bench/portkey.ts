import { join } from "node:path";
import { DEPS_DIR, depDir, ensureDeps } from "./deps.ts";
import { serveScript, type Child } from "./processes.ts";

/**
 * Portkey's open-source gateway, item 7's other baseline: `@portkey-ai/gateway` installed into
 * bench/.deps like better-auth, run as its own process with its own start script, without auth
 * (its open-source server has none), routed per request by headers to an OpenAI-compatible host.
 */
const PACKAGE = "@portkey-ai/gateway@1.15.2";
/**
 * Portkey builds a streamed answer as `new Response(stream, upstreamResponse)` and then appends
 * headers to it. From @hono/node-server 1.14.2 on (Portkey asks for ^1.3.3, so npm picks the newest),
 * such a Response hands back the upstream's own Headers, which fetch made immutable: every streamed
 * call answered 500 ("TypeError: immutable"). 1.14.1 is the last release that copies them.
 */
const OVERRIDES = { "@hono/node-server": "1.14.1" };

/** Portkey running on a free port, or why it could not be started. */
export async function servePortkey(dir: string): Promise<Child | string> {
  const installed = await ensureDeps([PACKAGE], "Portkey's gateway", OVERRIDES);
  if (installed !== true) return installed;
  const script = join(depDir("@portkey-ai/gateway"), "build", "start-server.js");
  return serveScript("portkey", (port) => [script, `--port=${port}`, "--headless"], dir, "Ready for connections", DEPS_DIR);
}

/** The headers that route a Portkey request to the OpenAI-compatible API at `baseUrl` (e.g. `http://127.0.0.1:PORT/v1`). */
export const portkeyRoute = (baseUrl: string): Record<string, string> => ({ "x-portkey-provider": "openai", "x-portkey-custom-host": baseUrl });
