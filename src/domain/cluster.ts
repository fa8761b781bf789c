import type { RateLimiter } from "./rate-limiter.ts";
import type { Meter, SpendLedger } from "./spend-ledger.ts";

/**
 * What processes share beyond the store, as the services see it (built by `startCluster` in
 * `src/cluster/setup.ts`). With Redis configured: pub/sub invalidation and atomic counters in
 * Redis. With PostgreSQL alone: LISTEN/NOTIFY and counters in a table. With the embedded SQLite
 * store there is one process, and process memory is enough.
 */
export interface Cluster {
  mode: "redis" | "postgres" | "single";
  invalidator: Invalidation;
  rateLimiter: RateLimiter;
  /** Reservations against monthly-spend-usd, counted like the rate limit (same backing). */
  spendLedger: SpendLedger;
  /** Metered usage, written in batches behind the responses (flushed by `close`). */
  meter: Meter;
  /** True while the shared parts answer (for /readyz). */
  ready(): Promise<boolean>;
  /** Writes the metered usage still in memory, then lets go of the shared parts. */
  close(): Promise<void>;
}

/**
 * Invalidation of cached credentials in every process: applied to this process's cache at once,
 * then published to the others. Never rejects: the cache's TTL covers a lost event.
 */
export interface Invalidation {
  /** One API key changed or was deleted. */
  key(keyId: string): Promise<void>;
  /** A principal's role changed or it was deleted: all its keys are looked up afresh. */
  user(accountId: string, userId: string): Promise<void>;
  /** An account's quotas, models or deployments changed: what the gateway keeps of it is read afresh. */
  account(accountId: string): Promise<void>;
}

/** The caches that invalidation empties: the process's verified API keys and the gateway's account state. */
export interface InvalidatedCache {
  invalidateKey(keyId: string): void;
  invalidateUser(accountId: string, userId: string): void;
  invalidateAccount(accountId: string): void;
  /** Everything, e.g. after a lost subscription, when events may have been missed. */
  clear(): void;
}
