import type { BenchOptions, Sizes } from "./options.ts";
import { scratch } from "./databases.ts";
import { load, rotatingBearer } from "./load.ts";
import { serveHearth, type Child } from "./processes.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { count, log, megabytes, perSecond, ratio } from "./stats.ts";
import { met, type Row } from "./table.ts";

const KEYS_PER_USER = 10;
const TARGET_BYTES = 250 * 1024 * 1024;

/**
 * Item 6: resident memory of a `hearth serve` child whose SQLite store holds 1,000,000 API keys
 * (100,000 users with 10 keys each, real digests of generated keys, bulk-inserted before the
 * server starts), after verifying 100,000 distinct keys (one per user) over HTTP. Baseline: the same server's
 * RSS right after it starts listening.
 */
export async function memory(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("memory");
  let hearth: Child | undefined;
  try {
    const seeded = await openSeededStore(s);
    const t = performance.now();
    const users = size.memoryKeys / KEYS_PER_USER;
    const keys = await seedUsers(seeded.store, {
      users,
      serviceAccountEvery: 2,
      keysPerUser: KEYS_PER_USER,
      keep: size.memoryKept,
      keepOnePerUser: true,
      onProgress: (done) => {
        if (done % (users / 10) === 0) log(`${count(done * KEYS_PER_USER)} keys inserted`);
      },
    });
    await seeded.store.close();
    log(`${count(size.memoryKeys)} keys of ${count(users)} users inserted in ${((performance.now() - t) / 1000).toFixed(0)} s`);

    hearth = await serveHearth(s.env, { profile: options.profile });
    await new Promise((r) => setTimeout(r, 1000)); // let start-up garbage settle
    const atStart = hearth.rss();
    // One key per owner: every verification resolves a different principal.
    const verified = keys.slice(0, size.memoryVerified);
    const t2 = performance.now();
    const r = await load({ url: hearth.baseUrl, connections: 16, amount: verified.length, requests: rotatingBearer("/verifyApiKey", verified) });
    if (r.failed > 0 || r.completed !== verified.length) throw new Error(`${r.failed} of ${verified.length} verifications failed`);
    log(
      `${count(verified.length)} distinct keys verified over HTTP in ${((performance.now() - t2) / 1000).toFixed(1)} s (${perSecond(r.perSecond)}, all cache misses)`,
    );
    await new Promise((r) => setTimeout(r, 1500)); // the lastUsed batch is written behind
    const after = hearth.rss();
    const peak = hearth.peakRss();
    log(`RSS at start ${megabytes(atStart)}, after ${megabytes(after)}, peak ${megabytes(peak)}`);
    return [
      {
        item: 6,
        what: `hearth serve RSS, ${count(size.memoryKeys)} keys in SQLite, after verifying ${count(verified.length)} distinct keys over HTTP; baseline RSS right after start`,
        hearth: megabytes(after),
        baseline: megabytes(atStart),
        ratio: ratio(after / atStart),
        target: "≤ 250 MB",
        met: met(after <= TARGET_BYTES),
      },
      {
        item: 6,
        what: "  peak RSS of that run (VmHWM)",
        hearth: megabytes(peak),
        baseline: megabytes(atStart),
        ratio: ratio(peak / atStart),
        target: "—",
        met: "—",
      },
    ];
  } finally {
    await hearth?.stop();
    await s.drop();
  }
}
