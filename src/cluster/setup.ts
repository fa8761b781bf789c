import type { Config } from "../config.ts";
import type { Cluster, InvalidatedCache } from "../domain/cluster.ts";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { Store } from "../store/store.ts";
import { Invalidator } from "./invalidation.ts";
import { MemoryRateLimiter } from "./memory-rate-limiter.ts";
import { PgRateLimiter } from "./pg-rate-limiter.ts";
import { PgTransport } from "./pg-transport.ts";
import { RedisRateLimiter } from "./redis-rate-limiter.ts";
import { newRedisClient } from "./redis-client.ts";
import { RedisTransport } from "./redis-transport.ts";
import { MemorySpendLedger } from "./memory-spend-ledger.ts";
import { PgSpendLedger } from "./pg-spend-ledger.ts";
import { RedisSpendLedger } from "./redis-spend-ledger.ts";
import type { SpendLedger } from "../domain/spend-ledger.ts";
import { monthStartDay } from "../domain/pricing.ts";
import { spendByAccountSince } from "../store/usage.ts";

/**
 * Starts what processes share beyond the store (see `Cluster`), chosen by the configuration: Redis
 * when `redisUrl` is set, else PostgreSQL's LISTEN/NOTIFY and a counter table when the store is
 * PostgreSQL, else process memory. `cache` is the key cache that invalidation events empty;
 * `onError` hears coordination failures that must not fail a request (a lost publish, a dropped
 * subscription).
 */
export async function startCluster(config: Config, store: Store, cache: InvalidatedCache, onError: (error: unknown) => void): Promise<Cluster> {
  if (config.redisUrl) {
    const client = newRedisClient(config.redisUrl);
    client.on("error", onError);
    await client.connect();
    const invalidator = new Invalidator(cache, new RedisTransport(client), onError);
    const ping = async () => (await client.ping()) === "PONG";
    const spendLedger = new RedisSpendLedger(client);
    await spendLedger.rebuild(monthStartDay(Date.now()), await spendByAccountSince(store.db, monthStartDay(Date.now())));
    return started("redis", invalidator, new RedisRateLimiter(client), spendLedger, ping, () => client.close());
  }
  if (store.dialect === "postgres" && config.databaseUrl) {
    const invalidator = new Invalidator(cache, new PgTransport(config.databaseUrl), onError);
    return started("postgres", invalidator, new PgRateLimiter(store), new PgSpendLedger(store), async () => true);
  }
  return started("single", new Invalidator(cache, undefined, onError), new MemoryRateLimiter(), new MemorySpendLedger(), async () => true);
}

async function started(
  mode: Cluster["mode"],
  invalidator: Invalidator,
  rateLimiter: RateLimiter,
  spendLedger: SpendLedger,
  ready: () => Promise<boolean>,
  closeClient: () => Promise<unknown> = async () => undefined,
): Promise<Cluster> {
  await invalidator.start();
  return {
    mode,
    invalidator,
    rateLimiter,
    spendLedger,
    ready: () => ready().catch(() => false),
    async close() {
      await invalidator.close();
      await closeClient().catch(() => undefined);
    },
  };
}
