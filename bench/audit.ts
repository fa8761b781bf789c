import { setTimeout as sleep } from "node:timers/promises";
import { auditRow, writeAudit } from "../src/service/audit.ts";
import { withFolded } from "../src/store/folded-columns.ts";
import type { Store } from "../src/store/store.ts";
import { appendChainedEntries } from "../test/support/audit-entries.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { postgresUnavailable, scratch } from "./databases.ts";
import { serveHearth, type Child } from "./processes.ts";
import { ACCOUNT_ID, openSeededStore } from "./seed.ts";
import { count, log, megabytes, median, perSecond, ratio } from "./stats.ts";
import { met, notRun, type Row } from "./table.ts";

/** Item 9: the audit log's hash chain — what it costs per audited change, and the server's memory while exporting. */
const ITEM = 9;
const WRITERS = 8;
const RSS_TARGET_BYTES = 32 * 1024 * 1024;

const actor = {
  accountId: ACCOUNT_ID,
  email: "bench@example.com",
  principalUid: "u-bench",
  apiKeyId: "kbench",
  meta: { userAgent: "bench", clientIp: "127.0.0.1", requestId: "r" },
};
const op = { method: "UpdateAccount", resource: `accounts/${ACCOUNT_ID}`, isAdminAction: true, payload: { displayName: "bench" } };

/** The writer before the chain: the same row (built by the audit writer), inserted with no chain head, hash or checkpoint. */
async function unchainedWrite(store: Store, i: number): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await trx.updateTable("accounts").set({ update_time: i }).where("id", "=", ACCOUNT_ID).execute();
    await trx
      .insertInto("audit_logs")
      .values(withFolded(auditRow(actor, op), ["message", "status_message"]))
      .execute();
  });
}

/** The same change through Hearth's audit writer: the entry appended to the account's hash chain. */
async function chainedWrite(store: Store, i: number): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await trx.updateTable("accounts").set({ update_time: i }).where("id", "=", ACCOUNT_ID).execute();
    await writeAudit(trx, actor, op);
  });
}

/**
 * Changes per second of `WRITERS` concurrent loops over `seconds`, of wall-clock time and of this
 * process's CPU time (SQLite runs in this process; the CPU figure barely moves with other load).
 */
async function changesPerSecond(store: Store, seconds: number, write: (store: Store, i: number) => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu = process.cpuUsage();
  let done = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < end) await write(store, done++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return { wall: done / ((performance.now() - start) / 1000), cpu: done / ((used.user + used.system) / 1e6) };
}

async function throughput(dialect: "sqlite" | "postgres", seconds: number, rounds: number): Promise<Row> {
  // SQLite does its work in this process: compare CPU time per change. PostgreSQL's is in its server: compare wall-clock rates.
  const measure = dialect === "sqlite" ? "cpu" : "wall";
  const what = `audited changes/s (${WRITERS} concurrent writers, ${dialect}${measure === "cpu" ? ", per CPU-second" : ""}), hash chain; baseline: the same change and entry without the chain`;
  const s = await scratch("audit-chain", dialect);
  try {
    const { store } = await openSeededStore(s);
    try {
      await changesPerSecond(store, 1, chainedWrite);
      await changesPerSecond(store, 1, unchainedWrite);
      const chained: number[] = [];
      const plain: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const p = await changesPerSecond(store, seconds, unchainedWrite);
        const c = await changesPerSecond(store, seconds, chainedWrite);
        plain.push(p[measure]);
        chained.push(c[measure]);
        log(
          `${dialect} round ${round + 1}: chained ${perSecond(c.wall)} (${perSecond(c.cpu)} per CPU-s), without ${perSecond(p.wall)} (${perSecond(p.cpu)} per CPU-s)`,
        );
      }
      const c = median(chained);
      const p = median(plain);
      return { item: ITEM, what, hearth: perSecond(c), baseline: perSecond(p), ratio: ratio(c / p), target: "≥ 0.8×", met: met(c / p >= 0.8) };
    } finally {
      await store.close();
    }
  } finally {
    await s.drop();
  }
}

async function exportMemory(entries: number): Promise<Row[]> {
  const s = await scratch("audit-export");
  let hearth: Child | undefined;
  try {
    const { store, adminKey } = await openSeededStore(s);
    const t = performance.now();
    await appendChainedEntries(store, ACCOUNT_ID, entries);
    await store.close();
    log(`${count(entries)} chained entries inserted in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    hearth = await serveHearth(s.env);
    await sleep(3000); // start-up garbage settles; the signer signs the bulk's checkpoints
    const idle = hearth.rss();
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, hearth!.rss())), 50);
    const t2 = performance.now();
    let bytes = 0;
    let lines = 0;
    try {
      const res = await fetch(`${hearth.baseUrl}/v1/accounts/${ACCOUNT_ID}/auditLogs:export?format=jsonl`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
      for await (const chunk of res.body!) {
        bytes += chunk.length;
        for (const byte of chunk) if (byte === 10) lines++;
      }
    } finally {
      clearInterval(sampler);
    }
    log(
      `exported ${count(lines)} lines, ${megabytes(bytes)} in ${((performance.now() - t2) / 1000).toFixed(1)} s; RSS idle ${megabytes(idle)}, peak during the export ${megabytes(peak)}`,
    );
    if (lines < entries) throw new Error(`the export held ${lines} lines for ${entries} entries`);
    return [
      {
        item: ITEM,
        what: `hearth serve RSS while streaming a JSON Lines export of ${count(entries)} audit entries (${megabytes(bytes)}, SQLite); baseline: the same server idle`,
        hearth: megabytes(peak),
        baseline: megabytes(idle),
        ratio: `+${megabytes(peak - idle)}`,
        target: "within 32 MB of idle",
        met: met(peak - idle <= RSS_TARGET_BYTES),
      },
    ];
  } finally {
    await hearth?.stop();
    await s.drop();
  }
}

/** Item 9: audited changes per second with the hash chain against without it (SQLite, and PostgreSQL when reachable), and export memory. */
export async function auditChain(options: BenchOptions, size: Sizes): Promise<Row[]> {
  void size;
  const seconds = options.quick ? 2 : 5;
  const rounds = options.quick ? 3 : 5;
  const rows: Row[] = [await throughput("sqlite", seconds, rounds)];
  const pgMissing = await postgresUnavailable();
  rows.push(pgMissing ? notRun(ITEM, "audited changes/s on PostgreSQL, chain vs without", "≥ 0.8×", pgMissing) : await throughput("postgres", seconds, rounds));
  rows.push(...(await exportMemory(options.quick ? 100_000 : 1_000_000)));
  return rows;
}
