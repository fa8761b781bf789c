import { digestKey } from "../src/domain/api-key-format.ts";
import { authenticateApiKey } from "../src/service/authenticate.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { scratch } from "./databases.ts";
import { hearthInProcess } from "./hearth-in-process.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { log, perCpuSecond, rateOver, ratio, syncRateOver, type Rate } from "./stats.ts";
import { met, type Row } from "./table.ts";

/**
 * Item 2: `authenticateApiKey` in a tight loop over ~1,000 keys of a bootstrapped SQLite store
 * with a warm cache, on this process's one thread. Baselines over the same keys: one SHA-256 per
 * key (the digest every verification must compute) and a bare `Map.get` of the digests. Rates
 * are per second of this process's CPU time ("on one core"), with the wall-clock rate beside.
 */
export async function verifyInProcess(_options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("verify-inprocess");
  try {
    const seeded = await openSeededStore(s);
    const keys = await seedUsers(seeded.store, { users: size.inProcessKeys, serviceAccountEvery: 2, keysPerUser: 1, keep: size.inProcessKeys });
    await seeded.store.close();
    const hearth = await hearthInProcess(s);
    try {
      const deps = hearth.deps;
      for (const key of keys) await authenticateApiKey(deps, key); // warm the cache
      const digests = keys.map(digestKey);
      const map = new Map(digests.map((d, i) => [d, i]));
      const n = keys.length;
      let sink = 0;
      // Alternate short slices of each, so a burst of other work on the machine hits all three.
      const slices = 3;
      const parts: Record<"hearth" | "sha" | "map", Rate[]> = { hearth: [], sha: [], map: [] };
      for (let i = 0; i < slices; i++) {
        parts.hearth.push(await rateOver(size.inProcessSeconds / slices, (j) => authenticateApiKey(deps, keys[j % n]!)));
        parts.sha.push(syncRateOver(size.inProcessSeconds / slices, (j) => (sink += digestKey(keys[j % n]!).length)));
        parts.map.push(syncRateOver(size.inProcessSeconds / slices, (j) => (sink += map.get(digests[j % n]!)!)));
      }
      if (sink === 0) throw new Error("the baselines did no work");
      const mean = (rates: Rate[]): Rate => ({
        perSecond: rates.reduce((a, r) => a + r.perSecond, 0) / rates.length,
        perCpuSecond: rates.reduce((a, r) => a + r.perCpuSecond, 0) / rates.length,
        calls: rates.reduce((a, r) => a + r.calls, 0),
      });
      const rate = { hearth: mean(parts.hearth), sha: mean(parts.sha), map: mean(parts.map) };
      log(`authenticateApiKey ${perCpuSecond(rate.hearth)}, SHA-256 ${perCpuSecond(rate.sha)}, Map.get ${perCpuSecond(rate.map)}`);
      log(`key cache: ${deps.keyCache.hits} hits, ${deps.keyCache.misses} misses`);
      if (deps.keyCache.misses > n) throw new Error(`the cache was not warm: ${deps.keyCache.misses} misses`);
      return [
        {
          item: 2,
          what: `authenticateApiKey in-process, warm cache, ${n} keys, one core; baseline one SHA-256 per key`,
          hearth: perCpuSecond(rate.hearth),
          baseline: perCpuSecond(rate.sha),
          ratio: ratio(rate.hearth.perCpuSecond / rate.sha.perCpuSecond),
          target: "≥ 300,000/s",
          met: met(rate.hearth.perCpuSecond >= 300_000),
        },
        {
          item: 2,
          what: "  same, against a bare Map.get of the same digests",
          hearth: perCpuSecond(rate.hearth),
          baseline: perCpuSecond(rate.map),
          ratio: ratio(rate.hearth.perCpuSecond / rate.map.perCpuSecond),
          target: "—",
          met: "—",
        },
      ];
    } finally {
      await hearth.close();
    }
  } finally {
    await s.drop();
  }
}
