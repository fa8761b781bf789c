import type { RateDecision } from "./sliding-window.ts";

/**
 * The account-wide request-rate limiter behind `serverless-inference-rpm`. A small interface, so a
 * multi-process deployment can back it with Redis or PostgreSQL instead of process memory (the
 * three implementations are in `src/cluster/`).
 */
export interface RateLimiter {
  /** Counts one request for `key` if it fits under `limit` per minute; a refused request is not counted. */
  take(key: string, limit: number, now?: number): Promise<RateDecision>;
  /** Requests counted for `key` over the last minute (quota usage). */
  used(key: string, now?: number): Promise<number>;
}
