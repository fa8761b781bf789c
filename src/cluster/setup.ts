import type { Config } from "../config.ts";
import type { Cluster, InvalidatedCache } from "../domain/cluster.ts";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { Store } from "../store/store.ts";
import { CHANNEL, Invalidator, type InvalidationEvent } from "./invalidation.ts";
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
import { UsageBatch } from "./usage-batch.ts";
import { monthStartDay } from "../domain/pricing.ts";

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
    const spendLedger = new RedisSpendLedger(client, store);
    await spendLedger.rebuild(monthStartDay(Date.now()));
    return started("redis", invalidator, new RedisRateLimiter(client), spendLedger, ping, onError, () => client.close());
  }
  if (store.dialect === "postgres" && config.databaseUrl) {
    const invalidator = new Invalidator(cache, new PgTransport(config.databaseUrl), onError);
    const spendLedger = new PgSpendLedger(store);
    await spendLedger.rebuild(monthStartDay(Date.now()));
    return started("postgres", invalidator, new PgRateLimiter(store), spendLedger, async () => true, onError);
  }
  return started("single", new Invalidator(cache, undefined, onError), new MemoryRateLimiter(), new MemorySpendLedger(store), async () => true, onError);
}

async function started(
  mode: Cluster["mode"],
  invalidator: Invalidator,
  rateLimiter: RateLimiter,
  spendLedger: SpendLedger,
  ready: () => Promise<boolean>,
  onError: (error: unknown) => void,
  closeClient: () => Promise<unknown> = async () => undefined,
): Promise<Cluster> {
  await invalidator.start();
  const meter = new UsageBatch(spendLedger, onError);
  return {
    mode,
    invalidator,
    rateLimiter,
    spendLedger,
    meter,
    ready: () => ready().catch(() => false),
    async close() {
      await meter.flush().catch(onError);
      await invalidator.close();
      await closeClient().catch(() => undefined);
    },
  };
}

/**
 * Tells the running servers that an account's quotas, models or deployments changed, from a
 * process that is not one of them (an operator command): over Redis when `redisUrl` is set, else
 * PostgreSQL's NOTIFY. With the embedded store there is no channel; the servers' cache TTL applies.
 * Never throws: a server that misses it reads afresh within its TTL.
 */
export async function announceAccountChange(config: Config, accountId: string): Promise<void> {
  const message = JSON.stringify({ kind: "account", accountId } satisfies InvalidationEvent);
  try {
    if (config.redisUrl) {
      const client = newRedisClient(config.redisUrl);
      client.on("error", () => undefined);
      await client.connect();
      await client.publish(CHANNEL, message).finally(() => client.close());
    } else if (config.databaseUrl?.startsWith("postgres")) {
      const transport = new PgTransport(config.databaseUrl);
      await transport.publish(message).finally(() => transport.close());
    }
  } catch {
    // the TTL covers it
  }
}
