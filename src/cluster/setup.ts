import type { Config } from "../config.ts";
import { MemoryRateLimiter, type RateLimiter } from "../gateway/rate-limiter.ts";
import type { KeyCache } from "../service/key-cache.ts";
import type { Store } from "../store/store.ts";
import { Invalidator } from "./invalidation.ts";
import { PgRateLimiter } from "./pg-rate-limiter.ts";
import { PgTransport } from "./pg-transport.ts";
import { RedisRateLimiter } from "./redis-rate-limiter.ts";
import { newRedisClient } from "./redis-client.ts";
import { RedisTransport } from "./redis-transport.ts";

/**
 * What processes share beyond the store. With Redis configured: pub/sub invalidation and atomic
 * counters in Redis. With PostgreSQL alone: LISTEN/NOTIFY and counters in a table. With the
 * embedded SQLite store there is one process, and process memory is enough.
 */
export interface Cluster {
  mode: "redis" | "postgres" | "single";
  invalidator: Invalidator;
  rateLimiter: RateLimiter;
  /** True while the shared parts answer (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startCluster(config: Config, store: Store, cache: KeyCache, onError: (error: unknown) => void): Promise<Cluster> {
  if (config.redisUrl) {
    const client = newRedisClient(config.redisUrl);
    client.on("error", onError);
    await client.connect();
    const invalidator = new Invalidator(cache, new RedisTransport(client), onError);
    const ping = async () => (await client.ping()) === "PONG";
    return started("redis", invalidator, new RedisRateLimiter(client), ping, () => client.close());
  }
  if (store.dialect === "postgres" && config.databaseUrl) {
    const invalidator = new Invalidator(cache, new PgTransport(config.databaseUrl), onError);
    return started("postgres", invalidator, new PgRateLimiter(store), async () => true);
  }
  return started("single", new Invalidator(cache, undefined, onError), new MemoryRateLimiter(), async () => true);
}

async function started(
  mode: Cluster["mode"],
  invalidator: Invalidator,
  rateLimiter: RateLimiter,
  ready: () => Promise<boolean>,
  closeClient: () => Promise<unknown> = async () => undefined,
): Promise<Cluster> {
  await invalidator.start();
  return {
    mode,
    invalidator,
    rateLimiter,
    ready: () => ready().catch(() => false),
    async close() {
      await invalidator.close();
      await closeClient().catch(() => undefined);
    },
  };
}
