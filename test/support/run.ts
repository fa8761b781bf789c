import assert from "node:assert/strict";
import { spawn } from "node:child_process";
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
