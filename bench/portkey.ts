import { join } from "node:path";
import { DEPS_DIR, depDir, ensureDeps } from "./deps.ts";
import { serveScript, type Child } from "./processes.ts";

/**
 * Portkey's open-source gateway, item 7's other baseline: `@portkey-ai/gateway` installed into
 * bench/.deps like better-auth, run as its own process with its own start script, without auth
 * (its open-source server has none), routed per request by headers to an OpenAI-compatible host.
 */
const PACKAGE = "@portkey-ai/gateway@1.15.2";

/** Portkey running on a free port, or why it could not be started. */
export async function servePortkey(dir: string): Promise<Child | string> {
  const installed = await ensureDeps([PACKAGE], "Portkey's gateway");
  if (installed !== true) return installed;
  const script = join(depDir("@portkey-ai/gateway"), "build", "start-server.js");
  return serveScript("portkey", (port) => [script, `--port=${port}`, "--headless"], dir, "Ready for connections", DEPS_DIR);
}

/** The headers that route a Portkey request to the OpenAI-compatible API at `baseUrl` (e.g. `http://127.0.0.1:PORT/v1`). */
export const portkeyRoute = (baseUrl: string): Record<string, string> => ({ "x-portkey-provider": "openai", "x-portkey-custom-host": baseUrl });
