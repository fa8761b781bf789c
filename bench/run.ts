import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpus, loadavg, totalmem } from "node:os";
import { DATA_ROOT } from "./databases.ts";
import { parseOptions, sizes } from "./options.ts";
import { notRun, renderTable, type Row } from "./table.ts";
import { verifyHttp } from "./verify-http.ts";
import { verifyInProcess } from "./verify-inprocess.ts";
import { listUsers } from "./list-users.ts";
import { createServiceAccounts } from "./create-sa.ts";
import { betterAuthComparison } from "./better-auth.ts";
import { memory } from "./memory.ts";
import { gatewayComparison } from "./gateway-compare.ts";
import { auditChain } from "./audit.ts";

/**
 * `npm run bench [-- --quick] [-- --only 1,2]`: runs the selected items one after another and
 * prints one table, each Hearth figure next to a baseline measured in the same run.
 */
const ITEM_NAMES: Record<number, string> = {
  1: "verify over HTTP",
  2: "verify in-process",
  3: "user list with a filter",
  4: "create service account + key",
  5: "better-auth comparison",
  6: "server memory",
  7: "inference gateway vs bare proxy and Portkey",
  9: "audit hash chain cost and export memory",
};

const options = parseOptions(process.argv.slice(2));
const size = sizes(options.quick);
const runners: Record<number, () => Promise<Row[]>> = {
  1: () => verifyHttp(options, size),
  2: () => verifyInProcess(options, size),
  3: () => listUsers(options, size),
  4: () => createServiceAccounts(options, size),
  5: () => betterAuthComparison(options, size),
  6: () => memory(options, size),
  7: () => gatewayComparison(options, size),
  9: () => auditChain(options, size),
};

const rows: Row[] = [];
const started = Date.now();
const loadAtStart = loadavg()[0]!;
for (const item of options.only) {
  process.stderr.write(`[${item}] ${ITEM_NAMES[item]}\n`);
  const t = Date.now();
  try {
    rows.push(...(await runners[item]!()));
  } catch (error) {
    // One failing item must not lose the others' figures.
    process.stderr.write(`  failed: ${(error as Error).stack ?? error}\n`);
    rows.push(notRun(item, ITEM_NAMES[item]!, "—", `failed: ${(error as Error).message.split("\n")[0]}`));
  }
  process.stderr.write(`  (${((Date.now() - t) / 1000).toFixed(0)} s)\n`);
}

const cpu = cpus();
const machine = `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
let commit = "";
try {
  commit = execSync("git rev-parse --short HEAD", { stdio: ["ignore", "pipe", "ignore"] })
    .toString()
    .trim();
} catch {
  // not a git checkout
}
const report = [
  `Hearth benchmarks${options.quick ? " (--quick sizes)" : ""} — ${new Date().toISOString()}${commit ? `, commit ${commit}` : ""}`,
  `${machine}; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  "",
  renderTable(rows),
].join("\n");
console.log(`\n${report}`);
// Also kept in the scratch folder, for copying into bench/RESULTS.md.
mkdirSync(DATA_ROOT, { recursive: true });
writeFileSync(join(DATA_ROOT, "last-run.md"), `${report}\n`);
