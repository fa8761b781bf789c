import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { monthStartDay } from "../domain/pricing.ts";
import type { MeteredCall, SpendDecision, SpendLedger, SpendRequest, SpendReservation, SpendScope } from "../domain/spend-ledger.ts";
import type { Db, Store } from "../store/store.ts";
import { spendByAccountSince, spendByKeySince } from "../store/usage.ts";
import { accountScope, keyScope } from "../domain/spend-ledger.ts";
import { writeMeteredUsage } from "./metered-usage.ts";
import { scopeSpendOf, scopesOf } from "./spend-scopes.ts";

const SWEEP_MS = 60_000;

/**
 * Spend reservations shared by every process on one PostgreSQL, without Redis. A counter row per
 * spend scope and month (`spend_counters`) holds the metered spend and the reservations in flight;
 * admission is one UPDATE of that row whose WHERE re-checks the limit against the row it has
 * locked, so concurrent calls on any process are admitted one at a time. The metered spend moves
 * in the transaction that writes the usage rows (`commit`), so the counter never drifts from
 * `usage_daily`. A missing counter (a new scope or month, a database restarted after a crash,
 * which empties unlogged tables) is seeded from `usage_daily` under a table lock that waits for
 * every usage transaction in flight, so a seed neither misses nor double-counts a batch.
 */
export class PgSpendLedger implements SpendLedger {
  private readonly store: Store;
  private lastSweep = 0;

  constructor(store: Store) {
    this.store = store;
  }

  /** Sets every counter of `month` from `usage_daily` (at start): the store is the source of truth. */
  async rebuild(month: string): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await sql`lock table spend_counters in share row exclusive mode`.execute(trx);
      const spent = new Map<string, number>();
      for (const [id, nano] of await spendByAccountSince(trx, month)) spent.set(accountScope(id), nano);
      for (const [id, nano] of await spendByKeySince(trx, month)) spent.set(keyScope(id), nano);
      await sql`update spend_counters set spent_nano = 0 where month = ${month}`.execute(trx);
      for (const [scope, nano] of spent) await this.upsertSpent(trx, scope, month, nano);
    });
  }

  private async upsertSpent(trx: Db, scope: string, month: string, spentNano: number): Promise<void> {
    await sql`insert into spend_counters (scope, month, spent_nano, reserved_nano)
      values (${scope}, ${month}, ${spentNano}, coalesce((select sum(amount_nano) from spend_holds where scope = ${scope} and month = ${month}), 0))
      on conflict (scope, month) do update set spent_nano = excluded.spent_nano`.execute(trx);
  }

  /** Creates the missing counter of `scope` in `month` from `usage_daily` (a concurrent seed of it wins). */
  private async seed(scope: string, month: string): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await sql`lock table spend_counters in share row exclusive mode`.execute(trx);
      const exists = await sql`select 1 from spend_counters where scope = ${scope} and month = ${month}`.execute(trx);
      if (exists.rows.length === 0) await this.upsertSpent(trx, scope, month, await scopeSpendOf(trx, scope, month));
    });
  }

  /** One admission statement for one scope: holds `amountNano` when spent + reserved < limit. Undefined: no counter yet. */
  private async hold(s: SpendScope, id: string, r: SpendRequest): Promise<SpendDecision | undefined> {
    const result = await sql<{ admitted: string | number; spent_nano: string | number; reserved_nano: string | number }>`
      with c as (
        update spend_counters set reserved_nano = reserved_nano + ${r.amountNano}
        where scope = ${s.scope} and month = ${r.month} and spent_nano + reserved_nano < ${s.limitNano}
        returning 1
      ), h as (
        insert into spend_holds (id, scope, month, amount_nano, expire_time)
        select ${id}, ${s.scope}, ${r.month}, ${r.amountNano}, ${r.expireTime} from c
      )
      select (select count(*) from c) as admitted, spent_nano, reserved_nano from spend_counters where scope = ${s.scope} and month = ${r.month}`.execute(
      this.store.db,
    );
    const row = result.rows[0];
    if (!row) return undefined;
    if (Number(row.admitted) === 1) return { allowed: true, reservation: { id, scopes: [s.scope], amountNano: r.amountNano, month: r.month } };
    return { allowed: false, scope: s.scope, limitNano: s.limitNano, spentNano: Number(row.spent_nano), reservedNano: Number(row.reserved_nano) };
  }

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    if (r.now - this.lastSweep > SWEEP_MS) {
      this.lastSweep = r.now;
      await this.sweep(r.now);
    }
    const id = randomUUID();
    const held: string[] = [];
    // The narrowest scope first (a key's, then its account's): a refusal gives back what was held.
    for (const s of [...r.scopes].reverse()) {
      let decision = await this.hold(s, id, r);
      if (!decision) {
        await this.seed(s.scope, r.month);
        decision = (await this.hold(s, id, r))!;
      }
      if (!decision.allowed) {
        if (held.length) await this.release({ id, scopes: held, amountNano: r.amountNano, month: r.month });
        return decision;
      }
      held.push(s.scope);
    }
    return { allowed: true, reservation: { id, scopes: r.scopes.map((s) => s.scope), amountNano: r.amountNano, month: r.month } };
  }

  /** Deletes holds (all of `ids`, or those expired by `now`) and takes them off their counters. */
  private async dropHolds(db: Db, which: { ids: string[] } | { now: number }): Promise<void> {
    const where = "ids" in which ? sql`id in (${sql.join(which.ids)})` : sql`expire_time <= ${which.now}`;
    await sql`with gone as (delete from spend_holds where ${where} returning scope, month, amount_nano),
      totals as (select scope, month, sum(amount_nano) as amount from gone group by scope, month)
      update spend_counters c set reserved_nano = greatest(0, c.reserved_nano - t.amount)
      from totals t where c.scope = t.scope and c.month = t.month`.execute(db);
  }

  private async sweep(now: number): Promise<void> {
    await this.dropHolds(this.store.db, { now });
  }

  async commit(calls: MeteredCall[]): Promise<void> {
    const spent = new Map<string, number>();
    for (const call of calls) {
      const month = monthStartDay(Date.parse(call.day));
      for (const scope of scopesOf(call)) spent.set(`${scope}|${month}`, (spent.get(`${scope}|${month}`) ?? 0) + call.costNano);
    }
    const ids = calls.flatMap((c) => (c.reservation ? [c.reservation.id] : []));
    await writeMeteredUsage(this.store, calls, async (trx) => {
      // In a fixed order, so that concurrent commits lock counter rows in the same order. A counter
      // that is missing stays missing: its seed reads this usage.
      for (const [key, nano] of [...spent].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (nano === 0) continue;
        const [scope, month] = key.split("|") as [string, string];
        await sql`update spend_counters set spent_nano = spent_nano + ${nano} where scope = ${scope} and month = ${month}`.execute(trx);
      }
      if (ids.length) await this.dropHolds(trx, { ids });
    });
  }

  async grow(reservation: SpendReservation, amountNano: number): Promise<void> {
    await sql`with grown as (
        update spend_holds h set amount_nano = ${amountNano} from spend_holds old
        where h.id = ${reservation.id} and old.id = h.id and old.scope = h.scope
        returning h.scope, h.month, ${amountNano}::bigint - old.amount_nano as delta
      )
      update spend_counters c set reserved_nano = c.reserved_nano + g.delta from grown g where c.scope = g.scope and c.month = g.month`.execute(this.store.db);
    reservation.amountNano = amountNano;
  }

  async release(reservation: SpendReservation): Promise<void> {
    await this.dropHolds(this.store.db, { ids: [reservation.id] });
  }

  async renew(reservation: SpendReservation, expireTime: number): Promise<void> {
    await sql`update spend_holds set expire_time = ${expireTime} where id = ${reservation.id} and expire_time < ${expireTime}`.execute(this.store.db);
  }
}
