import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import type { Dialect } from "../../src/store/store.ts";
import { freshDatabase } from "./hearth.ts";
import { request } from "./reliability.ts";
import { runProcess, type Run } from "./run.ts";

export const HEARTH_CLI = fileURLToPath(new URL("../../src/cli/hearth.ts", import.meta.url));

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

export interface Served {
  child: ChildProcess;
  output: () => string;
  baseUrl: string;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Servers still running; a test that failed before stopping its server must not keep the file's process alive. */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** Runs `hearth serve` as a real process and waits until it listens; one left running is killed when the test file ends. */
export async function serve(env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [HEARTH_CLI, "serve"], {
    env: { ...process.env, ...env, HEARTH_PORT: String(port), HEARTH_HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let text = "";
  child.stdout!.on("data", (d) => (text += d));
  child.stderr!.on("data", (d) => (text += d));
  // Generous: on a loaded two-core machine loading the TypeScript modules alone can take many seconds.
  const deadline = Date.now() + 60_000;
  while (!text.includes("Hearth listening")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`hearth serve did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => text,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop(signal = "SIGTERM") {
      // A process killed by a signal has no exit code but a signal code: it has exited all the same
      // (waiting for its exit again would wait for ever, as after a failed check between a kill and a restart).
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, "exit");
      return code as number | null;
    },
  };
}

/** Runs a `hearth` operator command to completion. */
export function hearth(args: string[], env: Record<string, string>): Promise<Run> {
  return runProcess(process.execPath, [HEARTH_CLI, ...args], { ...process.env, ...env });
}

/**
 * Hearth as real processes over a fresh database: `hearth serve` (one at a time) and `hearth` operator commands, all
 * with `env` (the database's, warn-level logs, then what `processHearth` was given).
 */
export interface ProcessHearth {
  dataDir: string;
  env: Record<string, string>;
  /** The server `serve` started last (it may have been stopped since). */
  server: Served | undefined;
  /** Runs `hearth serve` with `env` and `more` on top, and waits until it listens. */
  serve(more?: Record<string, string>): Promise<Served>;
  /** The first admin's API key, as the first `hearth serve` wrote it to the data directory. */
  adminKey(): string;
  /** An HTTP request with bearer `key` to `server`: its status and body (parsed when JSON). */
  call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops `server` and drops the database. */
  close(): Promise<void>;
}

export async function processHearth(dialect: Dialect, env: Record<string, string> = {}): Promise<ProcessHearth> {
  const db = await freshDatabase(dialect);
  let adminKey: string | undefined;
  const p: ProcessHearth = {
    dataDir: db.dataDir,
    env: { ...db.env, HEARTH_LOG_LEVEL: "warn", ...env },
    server: undefined,
    async serve(more = {}) {
      p.server = await serve({ ...p.env, ...more });
      return p.server;
    },
    adminKey: () => (adminKey ??= readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim()),
    async call(method, path, key, body) {
      if (!p.server) throw new Error("no hearth serve was started");
      const res = await request(p.server.baseUrl, method, path, { key, ...(body === undefined ? {} : { body }) });
      return { status: res.status, body: res.body };
    },
    async close() {
      await p.server?.stop();
      await db.drop();
    },
  };
  return p;
}
