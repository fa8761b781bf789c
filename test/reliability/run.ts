import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPORT_DIR } from "../support/reliability.ts";

/**
 * `npm run test:reliability [-- NAME…]`: runs the reliability suite (test/reliability/*.reliability.ts,
 * one file at a time, so the soak and the crash tests have the machine to themselves), then prints
 * the summary a security reviewer reads: what was attacked, how often, and what was found.
 */
const ORDER = ["limits", "fuzz", "isolation", "attacks", "concurrency", "secrets", "backup", "crash", "soak"];
const wanted = process.argv.slice(2);
const files = ORDER.filter((name) => wanted.length === 0 || wanted.includes(name)).map((name) => join("test", "reliability", `${name}.reliability.ts`));
if (files.length === 0) {
  console.error(`no such reliability file; choose from ${ORDER.join(", ")}`);
  process.exit(2);
}

rmSync(REPORT_DIR, { recursive: true, force: true });
mkdirSync(REPORT_DIR, { recursive: true });
const tap = join(REPORT_DIR, "results.tap");
const started = Date.now();
const child = spawn(
  process.execPath,
  [
    "--test",
    "--test-concurrency=1",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: "inherit", env: { ...process.env, HEARTH_RELIABILITY_REPORT_DIR: REPORT_DIR } },
);
const code: number = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));

// Numbers add up per section and line; text (a seed, an RSS series) keeps its last value.
const sections = new Map<string, Map<string, number | string>>();
const reportFile = join(REPORT_DIR, "report.jsonl");
for (const line of existsSync(reportFile) ? readFileSync(reportFile, "utf8").split("\n").filter(Boolean) : []) {
  const { section, metrics } = JSON.parse(line) as { section: string; metrics: Record<string, number | string> };
  const into = sections.get(section) ?? new Map<string, number | string>();
  sections.set(section, into);
  for (const [key, value] of Object.entries(metrics)) {
    const before = into.get(key);
    into.set(key, typeof value === "number" && typeof before === "number" && !/latency|RSS|longest|seed/.test(key) ? before + value : value);
  }
}
const total = (pattern: RegExp) =>
  [...sections.values()]
    .flatMap((m) => [...m].filter(([k, v]) => pattern.test(k) && typeof v === "number").map(([, v]) => v as number))
    .reduce((a, b) => a + b, 0);

const results = existsSync(tap) ? readFileSync(tap, "utf8") : "";
const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(results)?.[1] ?? 0);
const passed = count("pass");
const failed = count("fail") + count("cancelled");

const width = 64;
const out: string[] = ["", "=".repeat(width + 14), "Hearth reliability and security summary", "=".repeat(width + 14)];
for (const [section, metrics] of sections) {
  out.push("", section);
  for (const [key, value] of metrics) out.push(`  ${key} ${".".repeat(Math.max(2, width - key.length))} ${value}`);
}
out.push(
  "",
  "-".repeat(width + 14),
  `SIGKILLs survived: ${total(/^SIGKILLs survived$/)}; acknowledged writes checked: ${total(/^acknowledged writes checked$/)}; lost or half-applied: ${total(/^lost or half-applied writes$/)}`,
  `hostile inputs tried: ${total(/inputs( tried)?$/)}; answered 500: ${total(/^500s$/)}`,
  `isolation cases compared: ${total(/^isolation cases compared/)}; secrets planted: ${total(/^secrets planted$/)}; secrets found where they must not be: ${total(/^secrets found$/)}`,
  `attacks replayed: ${total(/^attacks replayed$/)}; held: ${total(/^attacks that held$/)}`,
  `time: ${Math.round((Date.now() - started) / 1000)} s`,
  "-".repeat(width + 14),
  `reliability: ${passed} passed, ${failed} failed`,
);
console.log(out.join("\n"));
process.exit(code !== 0 || failed > 0 ? 1 : 0);
