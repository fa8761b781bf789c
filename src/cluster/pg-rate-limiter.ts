import { sql } from "kysely";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { RateDecision } from "../domain/sliding-window.ts";
import type { Store } from "../store/store.ts";
import { decide, estimate, WINDOW_MS, windowStart } from "../domain/sliding-window.ts";

/**
 * Account-wide request counting shared by every process on one PostgreSQL. One statement decides
 * and counts: the insert-or-increment only happens while the sliding-window estimate stays under
 * the limit, and ON CONFLICT DO UPDATE re-checks that condition against the row it has locked,
 * so concurrent requests on any process are admitted one at a time and never exceed the limit.
 * The table is UNLOGGED: counters need no crash safety, and a commit that wrote no WAL waits for
 * no disk flush, so the row lock is held for microseconds.
 */
export class PgRateLimiter implements RateLimiter {
  private readonly store: Store;
  private lastSweep = 0;

  constructor(store: Store) {
    this.store = store;
  }

  async take(key: string, limit: number, now = Date.now(), amount = 1): Promise<RateDecision> {
    const start = windowStart(now);
    const weight = 1 - (now - start) / WINDOW_MS;
    const result = await sql<{ counted: number | null; previous: number | null }>`
      with previous as (
        select coalesce((select count from rate_windows where key = ${key} and start = ${start - WINDOW_MS}), 0) as c
      ), counted as (
        insert into rate_windows (key, start, count)
        select ${key}, ${start}, ${amount}::bigint from previous where previous.c * ${weight}::float8 + ${amount} <= ${limit}
        on conflict (key, start) do update set count = rate_windows.count + ${amount}
          where (select c from previous) * ${weight}::float8 + rate_windows.count + ${amount} <= ${limit}
        returning count
      )
      select (select count from counted) as counted, (select c from previous) as previous`.execute(this.store.db);
    const row = result.rows[0]!;
    const previous = Number(row.previous ?? 0);
    let decision: RateDecision;
    if (row.counted !== null) {
      // The statement admitted the request, so the decision does too, whatever rounding says.
      const d = decide(previous, Number(row.counted) - amount, start, now, limit, amount);
      decision = d.allowed ? d : { allowed: true, limit, remaining: 0, retryAfterMs: 0 };
    } else {
      const current = await sql<{ count: number }>`select count from rate_windows where key = ${key} and start = ${start}`.execute(this.store.db);
      decision = decide(previous, Number(current.rows[0]?.count ?? 0), start, now, limit, amount);
      // The statement refused, so the decision must too, whatever rounding says.
      decision = { ...decision, allowed: false, remaining: 0, retryAfterMs: Math.max(1, decision.retryAfterMs) };
    }
    if (now - this.lastSweep > WINDOW_MS) {
      this.lastSweep = now;
      await sql`delete from rate_windows where start < ${start - WINDOW_MS}`.execute(this.store.db);
    }
    return decision;
  }

  async adjust(key: string, delta: number, at: number): Promise<void> {
    await sql`update rate_windows set count = greatest(0, count + ${delta}) where key = ${key} and start = ${windowStart(at)}`.execute(this.store.db);
  }

  async used(key: string, now = Date.now()): Promise<number> {
    const start = windowStart(now);
    const rows = await sql<{
      start: number;
      count: number;
    }>`select start, count from rate_windows where key = ${key} and start in (${start}, ${start - WINDOW_MS})`.execute(this.store.db);
    const count = (s: number) => Number(rows.rows.find((r) => Number(r.start) === s)?.count ?? 0);
    return Math.ceil(estimate(count(start - WINDOW_MS), count(start), start, now));
  }
}
