import { Writable } from "node:stream";
import { loadConfig } from "../src/config.ts";
import { createHearth, type Hearth } from "../src/server.ts";
import type { Scratch } from "./databases.ts";

/**
 * A Hearth built in this process over a scratch store (as `hearth serve` builds it, without
 * listening), for measurements that call the services or `app.inject` directly. Logging is off:
 * these items measure the work, not the log line.
 */
export async function hearthInProcess(s: Scratch, env: Record<string, string> = {}): Promise<Hearth> {
  const config = loadConfig({ ...s.env, HEARTH_LOG_LEVEL: "silent", ...env });
  return createHearth(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
}
