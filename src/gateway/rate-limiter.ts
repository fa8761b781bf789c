/**
 * The account-wide request-rate limiter behind `serverless-inference-rpm`. A small interface, so a
 * multi-process deployment can back it with Redis or PostgreSQL instead of process memory.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Milliseconds until a refused request could succeed. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one request for `key` if it fits under `limit` per minute; a refused request is not counted. */
  take(key: string, limit: number, now?: number): Promise<RateDecision>;
  /** Requests counted for `key` over the last minute (quota usage). */
  used(key: string, now?: number): Promise<number>;
}

const WINDOW_MS = 60_000;

interface Window {
  /** Start of the current fixed window. */
  start: number;
  current: number;
  previous: number;
}

/**
 * In-process sliding-window counter (the previous fixed minute weighted by how much of it still
 * overlaps the last 60 s, plus the current minute). O(1) memory per account; `take` is
 * synchronous underneath, so concurrent requests in one process can never overshoot.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();

  private window(key: string, now: number): Window {
    const start = now - (now % WINDOW_MS);
    let w = this.windows.get(key);
    if (!w) {
      w = { start, current: 0, previous: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 100_000) this.sweep(now);
    } else if (w.start !== start) {
      w.previous = start - w.start === WINDOW_MS ? w.current : 0;
      w.current = 0;
      w.start = start;
    }
    return w;
  }

  private estimate(w: Window, now: number): number {
    const overlap = 1 - (now - w.start) / WINDOW_MS;
    return w.previous * overlap + w.current;
  }

  async take(key: string, limit: number, now = Date.now()): Promise<RateDecision> {
    const w = this.window(key, now);
    const count = this.estimate(w, now);
    if (count + 1 > limit) {
      // The weighted previous window drains linearly: wait until one request's worth has gone.
      const needed = count + 1 - limit;
      const retryAfterMs = w.current + 1 > limit ? w.start + WINDOW_MS - now : Math.ceil((needed / w.previous) * WINDOW_MS);
      return { allowed: false, limit, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs) };
    }
    w.current += 1;
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - count - 1)), retryAfterMs: 0 };
  }

  async used(key: string, now = Date.now()): Promise<number> {
    const w = this.windows.get(key);
    return w ? Math.ceil(this.estimate(this.window(key, now), now)) : 0;
  }

  /** Forgets accounts idle for two windows. */
  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= 2 * WINDOW_MS) this.windows.delete(key);
  }
}
