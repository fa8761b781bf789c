/**
 * The sliding-window estimate behind every rate limiter: the previous fixed minute weighted by how
 * much of it still overlaps the last 60 s, plus the current minute. Pure, so the in-memory,
 * PostgreSQL and Redis limiters decide identically.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Milliseconds until a refused request could succeed. */
  retryAfterMs: number;
}

export const WINDOW_MS = 60_000;

export const windowStart = (now: number): number => now - (now % WINDOW_MS);

export function estimate(previous: number, current: number, start: number, now: number): number {
  return previous * (1 - (now - start) / WINDOW_MS) + current;
}

/** Whether `amount` more (one request by default; tokens for a `tpm` window) fits, given the counts before it. */
export function decide(previous: number, current: number, start: number, now: number, limit: number, amount = 1): RateDecision {
  const count = estimate(previous, current, start, now);
  if (count + amount > limit) {
    // The weighted previous window drains linearly: wait until `amount`'s worth has gone.
    const needed = count + amount - limit;
    const retryAfterMs = current + amount > limit || previous === 0 ? start + WINDOW_MS - now : Math.ceil((needed / previous) * WINDOW_MS);
    return { allowed: false, limit, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs) };
  }
  return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - count - amount)), retryAfterMs: 0 };
}
