import type { RateLimiter } from "../domain/rate-limiter.ts";
import { decide, estimate, windowStart, WINDOW_MS, type RateDecision } from "../domain/sliding-window.ts";

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
    const start = windowStart(now);
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

  async take(key: string, limit: number, now = Date.now(), amount = 1): Promise<RateDecision> {
    const w = this.window(key, now);
    const decision = decide(w.previous, w.current, w.start, now, limit, amount);
    if (decision.allowed) w.current += amount;
    return decision;
  }

  async adjust(key: string, delta: number, at: number): Promise<void> {
    const w = this.windows.get(key);
    if (!w) return;
    const start = windowStart(at);
    if (w.start === start) w.current = Math.max(0, w.current + delta);
    else if (w.start - start === WINDOW_MS) w.previous = Math.max(0, w.previous + delta);
  }

  async used(key: string, now = Date.now()): Promise<number> {
    if (!this.windows.has(key)) return 0;
    const w = this.window(key, now);
    return Math.ceil(estimate(w.previous, w.current, w.start, now));
  }

  /** Forgets accounts idle for two windows. */
  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= 2 * WINDOW_MS) this.windows.delete(key);
  }
}
