import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Running commands to completion in tests, and reading what they printed. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const FIRECTL_LAUNCHER = fileURLToPath(new URL("../../bin/firectl.js", import.meta.url));

export function runProcess(command: string, args: string[], env: Record<string, string | undefined>, input = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `firectl ARGS…` through the real launcher, against `baseUrl` with `key`, in a private HOME. */
export const firectlAt =
  (home: string, baseUrl: string, key: string) =>
  (args: string[]): Promise<Run> =>
    runProcess(process.execPath, [FIRECTL_LAUNCHER, ...args], {
      PATH: process.env.PATH ?? "",
      HOME: home,
      FIREWORKS_API_BASE: baseUrl,
      FIREWORKS_API_KEY: key,
    });

/** A shell in which `firectl` is on PATH, with a private HOME; `close` removes both folders. */
export interface FirectlShell {
  /** Runs `line` through /bin/sh, as a reader of Fireworks' docs types it, against `target()`'s base URL and key. */
  run(line: string): Promise<Run>;
  home: string;
  close(): void;
}

/** `firectl` typed in /bin/sh: `target` is read at each call (the server may start after the shell is made). */
export function firectlShell(target: () => { baseUrl: string; key: string }): FirectlShell {
  const home = mkdtempSync(join(tmpdir(), "firectl-home-"));
  const binDir = mkdtempSync(join(tmpdir(), "firectl-bin-"));
  symlinkSync(FIRECTL_LAUNCHER, join(binDir, "firectl"));
  return {
    home,
    run: (line) => {
      const { baseUrl, key } = target();
      return runProcess("/bin/sh", ["-c", line], {
        PATH: [binDir, dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
        HOME: home,
        FIREWORKS_API_BASE: baseUrl,
        FIREWORKS_API_KEY: key,
      });
    },
    close: () => {
      for (const dir of [home, binDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts a zero exit and returns stdout. */
export function ok(run: Run): string {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run.stdout;
}

/** The `Label: value` of a text block. */
export const field = (text: string, label: string): string | undefined => new RegExp(`^${label}:[ ]*(.*)$`, "m").exec(text)?.[1]?.trim();

/** First column of each table row (the header skipped). */
export const firstColumn = (table: string): string[] =>
  table
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split(/\s+/)[0] ?? "");
