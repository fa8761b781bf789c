import type { RateDecision } from "./sliding-window.ts";

/**
 * The sliding-window counters behind `serverless-inference-rpm` and an API key's `rpm` and `tpm`.
 * A small interface, so a multi-process deployment can back it with Redis or PostgreSQL instead of
 * process memory (the three implementations are in `src/cluster/`).
 */
export interface RateLimiter {
  /**
   * Counts `amount` (default 1: one request; tokens for a `tpm` window) for `key` if it fits under
   * `limit` per minute; a refused take is not counted.
   */
  take(key: string, limit: number, now?: number, amount?: number): Promise<RateDecision>;
  /**
   * Moves the count of the fixed window holding `at` (the time of the take) by `delta`: a negative
   * delta gives back what a take counted (a refusal by a later limit, fewer tokens than reserved),
   * a positive one adds what was used beyond it. A window already gone is left alone.
   */
  adjust(key: string, delta: number, at: number): Promise<void>;
  /** Requests counted for `key` over the last minute (quota usage). */
  used(key: string, now?: number): Promise<number>;
}
