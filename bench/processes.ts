import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CannedRoute } from "./bare-server.ts";
import { DATA_ROOT } from "./databases.ts";

const HEARTH_CLI = fileURLToPath(new URL("../src/cli/hearth.ts", import.meta.url));
const BARE_SERVER = fileURLToPath(new URL("./bare-server.ts", import.meta.url));
const PROFILE_DIR = join(DATA_ROOT, "profiles");

export interface Child {
  pid: number;
  baseUrl: string;
  /** Resident set size now, in bytes (VmRSS of /proc/<pid>/status). */
  rss(): number;
  /** Peak resident set size so far, in bytes (VmHWM). */
  peakRss(): number;
  /** CPU time used so far (user + system), in seconds: unlike throughput, barely moved by other work on the machine. */
  cpuSeconds(): number;
  /** Seconds spent runnable but waiting for a CPU so far (/proc/<pid>/schedstat): how much other work on the machine held it back. */
  waitSeconds(): number;
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, after the parenthesised command name), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** The inherited environment without any Hearth setting, so the shell cannot change what is measured. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("HEARTH_") && k !== "DATABASE_URL") env[k] = v;
  return env;
}

/** Starts a child whose output goes to a log file (so the bench process never spends time reading it). */
async function start(name: string, args: string[], env: Record<string, string>, ready: string, logDir: string, port: number, cwd?: string): Promise<Child> {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, "w");
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ["ignore", fd, fd], ...(cwd ? { cwd } : {}) });
  closeSync(fd);
  const log = () => readFileSync(logFile, "utf8");
  const deadline = Date.now() + 30_000;
  while (!log().includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start:\n${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    rss: () => statusField(pid, "VmRSS"),
    peakRss: () => statusField(pid, "VmHWM"),
    cpuSeconds: () => cpuSeconds(pid),
    waitSeconds: () => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The Node options that write a child's CPU profile into bench/.data/profiles (`--profile`); none without it. */
export const profileArgs = (profile: boolean | undefined): string[] => (profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []);

/**
 * Runs `hearth serve` as a real process over the given store, with the default configuration
 * except what `env` sets. Its log goes to `<dataDir>/hearth-serve.log`.
 */
export async function serveHearth(env: Record<string, string> & { HEARTH_DATA_DIR: string }, options: { profile?: boolean } = {}): Promise<Child> {
  const port = await freePort();
  const nodeArgs = profileArgs(options.profile);
  const fullEnv = { ...cleanEnv(), ...env, HEARTH_HOST: "127.0.0.1", HEARTH_PORT: String(port) };
  // The V8 flag `npm start` runs the server with (a young generation capped at 16 MB).
  return start("hearth-serve", [...nodeArgs, "--max-semi-space-size=8", HEARTH_CLI, "serve"], fullEnv, "Hearth listening", env.HEARTH_DATA_DIR, port);
}

/** Runs the bare `node:http` baseline answering `routes` (with a CPU profile under `--profile`, as Hearth's). */
export async function serveBare(routes: CannedRoute[], dir: string, options: { profile?: boolean } = {}): Promise<Child> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const routesFile = join(dir, "bare-routes.json");
  writeFileSync(routesFile, JSON.stringify(routes));
  return start("bare-server", [...profileArgs(options.profile), BARE_SERVER, routesFile, String(port)], cleanEnv(), "bare listening", dir, port);
}

/**
 * Runs any Node script as a child on a free port: `args(port)` gives its arguments (script first),
 * and it counts as started once its log shows `ready`. Its log goes to `<dir>/<name>.log`.
 */
export async function serveScript(name: string, args: (port: number) => string[], dir: string, ready: string, cwd?: string): Promise<Child> {
  const port = await freePort();
  return start(name, args(port), cleanEnv(), ready, dir, port, cwd);
}

/** Turns a real response into a canned route for the bare server (same status, headers, body). */
export async function cannedFrom(method: string, path: string, response: Response): Promise<CannedRoute> {
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) {
    if (!["date", "connection", "keep-alive", "content-length", "transfer-encoding"].includes(k)) headers[k] = v;
  }
  return { method, path, status: response.status, headers, body: await response.text() };
}
