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

/** Whether one more request fits, given the counts before it. */
export function decide(previous: number, current: number, start: number, now: number, limit: number): RateDecision {
  const count = estimate(previous, current, start, now);
  if (count + 1 > limit) {
    // The weighted previous window drains linearly: wait until one request's worth has gone.
    const needed = count + 1 - limit;
    const retryAfterMs = current + 1 > limit || previous === 0 ? start + WINDOW_MS - now : Math.ceil((needed / previous) * WINDOW_MS);
    return { allowed: false, limit, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs) };
  }
  return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - count - 1)), retryAfterMs: 0 };
}
