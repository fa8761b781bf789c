import { postgresUnavailable, scratch } from "./databases.ts";
import { load, rotatingBearer } from "./load.ts";
import { serveHearth, type Child } from "./processes.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { log, perSecond, ratio } from "./stats.ts";
import { renderTable, type Row } from "./table.ts";

/**
 * `npm run bench:scale-out [-- --quick] [-- --redis]`: `GET /verifyApiKey` throughput of 1, 2 and 3
 * `hearth serve` processes on one PostgreSQL (coordinated through PostgreSQL, or Redis with
 * --redis), each process loaded by its own autocannon run at once; the baseline is one process
 * measured in the same run. On a two-core machine the load generator and the servers share the
 * cores, so the ratio shows coordination overhead more than added capacity.
 */
const quick = process.argv.includes("--quick");
const redis = process.argv.includes("--redis");
const SECONDS = quick ? 3 : 8;
const CONNECTIONS_PER_PROCESS = 16;
const KEYS = 1_000;

async function main(): Promise<void> {
  const unavailable = await postgresUnavailable();
  if (unavailable) {
    console.log(`scale-out bench not run: PostgreSQL is needed (${unavailable})`);
    return;
  }
  const s = await scratch("scale-out", "postgres");
  const children: Child[] = [];
  try {
    const { store } = await openSeededStore(s);
    const keys = await seedUsers(store, { users: KEYS, serviceAccountEvery: 1, keysPerUser: 1, keep: KEYS });
    await store.close();
    const env = { ...s.env, ...(redis ? { HEARTH_REDIS_URL: "redis://127.0.0.1:6379" } : {}) };
    for (let i = 0; i < 3; i++) children.push(await serveHearth(env));

    const rows: Row[] = [];
    let single = NaN;
    for (const n of [1, 2, 3]) {
      const serving = children.slice(0, n);
      const run = (seconds: number) =>
        Promise.all(
          serving.map((c) => load({ url: c.baseUrl, connections: CONNECTIONS_PER_PROCESS, seconds, requests: rotatingBearer("/verifyApiKey", keys) })),
        );
      await run(1); // warm every cache
      const results = await run(SECONDS);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      if (failed > 0) throw new Error(`${n} processes: ${failed} requests failed`);
      const total = results.reduce((sum, r) => sum + r.perSecond, 0);
      if (n === 1) single = total;
      log(`${n} process(es): ${perSecond(total)}`);
      rows.push({
        item: n,
        what: `GET /verifyApiKey req/s over ${n} process(es) (${SECONDS} s, ${CONNECTIONS_PER_PROCESS} connections each, ${redis ? "Redis" : "PostgreSQL"})`,
        hearth: perSecond(total),
        baseline: perSecond(single),
        ratio: ratio(total / single),
        target: "—",
        met: "—",
      });
    }
    console.log(renderTable(rows));
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await s.drop();
  }
}

await main();
