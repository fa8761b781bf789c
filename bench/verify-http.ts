import type { BenchOptions, Sizes } from "./options.ts";
import { scratch } from "./databases.ts";
import { load, rotatingBearer, type LoadResult } from "./load.ts";
import { cannedFrom, serveBare, serveHearth, type Child } from "./processes.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { log, median, micros, ms, perSecond, ratio } from "./stats.ts";
import { met, type Row } from "./table.ts";

const CONNECTIONS = 32;
const KEYS = 1_000;

/**
 * Item 1: authenticated `GET /verifyApiKey` against a real `hearth serve` child versus a bare
 * `node:http` child answering the same body and headers. Load comes from this process with
 * autocannon, rotating over 1,000 service-account keys; rounds alternate the two servers so
 * that noise from other work on the machine falls on both.
 */
export async function verifyHttp(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("verify-http");
  let hearth: Child | undefined;
  let bare: Child | undefined;
  try {
    const { store } = await openSeededStore(s);
    const keys = await seedUsers(store, { users: KEYS, serviceAccountEvery: 1, keysPerUser: 1, keep: KEYS });
    await store.close();

    hearth = await serveHearth(s.env, { profile: options.profile });
    const real = await fetch(`${hearth.baseUrl}/verifyApiKey`, { headers: { authorization: `Bearer ${keys[0]}` } });
    if (real.status !== 200) throw new Error(`GET /verifyApiKey answered ${real.status}: ${await real.text()}`);
    bare = await serveBare([await cannedFrom("GET", "^/verifyApiKey$", real)], s.dataDir, { profile: options.profile });

    const run = (child: Child, seconds: number) =>
      load({ url: child.baseUrl, connections: CONNECTIONS, seconds, requests: rotatingBearer("/verifyApiKey", keys), server: child });
    log(`warming up both servers (${KEYS} keys, ${CONNECTIONS} connections)`);
    await run(bare, 2);
    await run(hearth, 2);
    const results: { hearth: LoadResult[]; bare: LoadResult[] } = { hearth: [], bare: [] };
    for (let round = 0; round < size.httpRounds; round++) {
      const order: Array<"hearth" | "bare"> = round % 2 === 0 ? ["bare", "hearth"] : ["hearth", "bare"];
      for (const which of order) {
        const r = await run(which === "hearth" ? hearth : bare, size.httpSeconds);
        if (r.failed > 0) throw new Error(`${which}: ${r.failed} requests failed or were not 2xx`);
        results[which].push(r);
        log(
          `round ${round + 1} ${which}: ${perSecond(r.perSecond)}, p99 ${ms(r.p99)}, server CPU ${micros(r.cpuMicros)} per request, waited for a CPU ${(100 * r.waitShare).toFixed(0)}% of the time`,
        );
      }
    }
    const rps = { hearth: median(results.hearth.map((r) => r.perSecond)), bare: median(results.bare.map((r) => r.perSecond)) };
    const p99 = { hearth: median(results.hearth.map((r) => r.p99)), bare: median(results.bare.map((r) => r.p99)) };
    const cpu = { hearth: median(results.hearth.map((r) => r.cpuMicros)), bare: median(results.bare.map((r) => r.cpuMicros)) };
    const rounds = `median of ${size.httpRounds} × ${size.httpSeconds} s, ${CONNECTIONS} connections`;
    return [
      {
        item: 1,
        what: `GET /verifyApiKey req/s, hearth serve vs bare node:http (${rounds})`,
        hearth: perSecond(rps.hearth),
        baseline: perSecond(rps.bare),
        ratio: ratio(rps.hearth / rps.bare),
        target: "ratio ≥ 0.8",
        met: met(rps.hearth / rps.bare >= 0.8),
      },
      {
        item: 1,
        what: "  p99 latency under that load",
        hearth: ms(p99.hearth),
        baseline: ms(p99.bare),
        ratio: ratio(p99.hearth / p99.bare),
        target: "—",
        met: "—",
      },
      {
        item: 1,
        what: "  server CPU time per request (ratio: requests per CPU-second, Hearth ÷ bare)",
        hearth: micros(cpu.hearth),
        baseline: micros(cpu.bare),
        ratio: ratio(cpu.bare / cpu.hearth),
        target: "—",
        met: "—",
      },
    ];
  } finally {
    await hearth?.stop();
    await bare?.stop();
    await s.drop();
  }
}
