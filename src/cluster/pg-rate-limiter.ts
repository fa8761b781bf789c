import { sql } from "kysely";
import type { RateDecision, RateLimiter } from "../gateway/rate-limiter.ts";
import type { Store } from "../store/store.ts";
import { decide, estimate, WINDOW_MS, windowStart } from "./sliding-window.ts";

/**
 * Account-wide request counting shared by every process on one PostgreSQL: the current window's
 * row is locked for the decision, so concurrent requests on any process are admitted one at a
 * time and together never exceed the limit.
 */
export class PgRateLimiter implements RateLimiter {
  private readonly store: Store;
  private lastSweep = 0;

  constructor(store: Store) {
    this.store = store;
  }

  async take(key: string, limit: number, now = Date.now()): Promise<RateDecision> {
    const start = windowStart(now);
    const decision = await this.store.db.transaction().execute(async (trx) => {
      await sql`insert into rate_windows (key, start, count) values (${key}, ${start}, 0) on conflict do nothing`.execute(trx);
      const current = await sql<{ count: number }>`select count from rate_windows where key = ${key} and start = ${start} for update`.execute(trx);
      const previous = await sql<{ count: number }>`select count from rate_windows where key = ${key} and start = ${start - WINDOW_MS}`.execute(trx);
      const d = decide(Number(previous.rows[0]?.count ?? 0), Number(current.rows[0]?.count ?? 0), start, now, limit);
      if (d.allowed) await sql`update rate_windows set count = count + 1 where key = ${key} and start = ${start}`.execute(trx);
      return d;
    });
    if (now - this.lastSweep > WINDOW_MS) {
      this.lastSweep = now;
      await sql`delete from rate_windows where start < ${start - WINDOW_MS}`.execute(this.store.db);
    }
    return decision;
  }

  async used(key: string, now = Date.now()): Promise<number> {
    const start = windowStart(now);
    const rows = await sql<{ start: number; count: number }>`select start, count from rate_windows where key = ${key} and start in (${start}, ${start - WINDOW_MS})`.execute(this.store.db);
    const count = (s: number) => Number(rows.rows.find((r) => Number(r.start) === s)?.count ?? 0);
    return Math.ceil(estimate(count(start - WINDOW_MS), count(start), start, now));
  }
}
