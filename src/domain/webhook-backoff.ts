/**
 * @module When a failed webhook delivery is tried again: exponential backoff from a base delay,
 * doubling per attempt, at most 6 hours apart, for a day after the first attempt (Standard Webhooks
 * recommends retrying with exponential backoff; the day is Hearth's rule, docs/webhooks.md).
 */
const HOUR = 3600 * 1000;

/** Retries stop this long after a delivery's first attempt (milliseconds): a day. */
export const RETRY_WINDOW_MS = 24 * HOUR;
const MAX_DELAY_MS = 6 * HOUR;

/**
 * When the attempt after failed attempt number `attempt` (1-based) is due, epoch milliseconds:
 * `retryBaseMs · 2^(attempt-1)` after `now`, at most 6 hours later, and never after `deadline` (a
 * last attempt is made at it); null once `now` has reached the deadline (the delivery has FAILED).
 */
export function nextAttemptTime(now: number, attempt: number, retryBaseMs: number, deadline: number): number | null {
  if (now >= deadline) return null;
  return Math.min(now + Math.min(retryBaseMs * 2 ** (attempt - 1), MAX_DELAY_MS), deadline);
}
