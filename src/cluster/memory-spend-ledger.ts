import { monthStartDay } from "../domain/pricing.ts";
import type { MeteredCall, SpendDecision, SpendLedger, SpendRequest, SpendReservation } from "../domain/spend-ledger.ts";
import type { Store } from "../store/store.ts";
import { writeMeteredUsage } from "./metered-usage.ts";
import { scopeSpendOf, scopesOf } from "./spend-scopes.ts";

interface Counter {
  /** Metered spend of the month, nano-dollars: seeded from the store at the scope's first call, then settled into. */
  spentNano: number;
  held: Map<string, { amountNano: number; expireTime: number }>;
  /** The sum of `held`'s amounts, nano-dollars, kept as they come and go. */
  reservedNano: number;
  /** Set once the sum passed `Number.MAX_SAFE_INTEGER`, where adding and taking away are no longer exact: recount before the next decision. */
  inexact: boolean;
  /** No reservation in `held` expires before this (Unix ms): until then, admission need not look for lapsed ones. */
  nextExpiry: number;
}

/**
 * Drops the reservations of `c` that lapsed at `now` (their process died before settling them)
 * and recounts what is held. Runs only once the earliest expiry has passed (or the sum went past
 * exact integers), so admission costs O(1), not O(calls in flight).
 */
function dropLapsed(c: Counter, now: number): void {
  let reservedNano = 0;
  let nextExpiry = Infinity;
  for (const [id, h] of c.held) {
    if (h.expireTime <= now) {
      c.held.delete(id);
      continue;
    }
    reservedNano += h.amountNano;
    nextExpiry = Math.min(nextExpiry, h.expireTime);
  }
  c.reservedNano = reservedNano;
  c.nextExpiry = nextExpiry;
  c.inexact = reservedNano > Number.MAX_SAFE_INTEGER;
}

/** Moves `c`'s held sum by `deltaNano`, marking it for a recount once it leaves the range where that is exact. */
function moveHeld(c: Counter, deltaNano: number): void {
  c.reservedNano += deltaNano;
  if (c.reservedNano > Number.MAX_SAFE_INTEGER) c.inexact = true;
}

/**
 * Spend reservations of a single process (the embedded store). The counters live in memory:
 * `reserve` decides synchronously once they are there, so concurrent calls are admitted one at a
 * time. A scope's counter is seeded from the store at its first call after start (so it is rebuilt
 * at every start); seeding and committing usage take turns, so a seed never misses nor double-counts
 * a batch.
 */
export class MemorySpendLedger implements SpendLedger {
  private readonly store: Store;
  private readonly counters = new Map<string, Counter>();
  /** Seeds and commits, one at a time. */
  private turn: Promise<unknown> = Promise.resolve();
  /** The last reservation's number: ids need only be unique within this process, whose memory holds them. */
  private lastId = 0;

  constructor(store: Store) {
    this.store = store;
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.turn.then(run, run);
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** A scope's counter for `month`, seeded from the store the first time (see the class). */
  private counter(scope: string, month: string): Counter | Promise<Counter> {
    const key = `${scope}|${month}`;
    return this.counters.get(key) ?? this.seeded(key, scope, month);
  }

  private seeded(key: string, scope: string, month: string): Promise<Counter> {
    return this.exclusive(async () => {
      let c = this.counters.get(key);
      if (!c)
        this.counters.set(
          key,
          (c = { spentNano: await scopeSpendOf(this.store.db, scope, month), held: new Map(), reservedNano: 0, nextExpiry: Infinity, inexact: false }),
        );
      return c;
    });
  }

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    // Awaited only when a counter is not seeded yet: an admission with every counter in memory
    // decides without giving up its turn.
    const counters: Counter[] = [];
    for (const s of r.scopes) {
      const c = this.counter(s.scope, r.month);
      counters.push(c instanceof Promise ? await c : c);
    }
    // From here on synchronous: no other call can interleave.
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      if (c.nextExpiry <= r.now || c.inexact) dropLapsed(c, r.now);
      const { scope, limitNano } = r.scopes[i]!;
      if (c.spentNano + c.reservedNano >= limitNano) return { allowed: false, scope, limitNano, spentNano: c.spentNano, reservedNano: c.reservedNano };
    }
    const reservation = { id: String(++this.lastId), scopes: r.scopes.map((s) => s.scope), amountNano: r.amountNano, month: r.month };
    for (const c of counters) {
      c.held.set(reservation.id, { amountNano: r.amountNano, expireTime: r.expireTime });
      moveHeld(c, r.amountNano);
      c.nextExpiry = Math.min(c.nextExpiry, r.expireTime);
    }
    return { allowed: true, reservation };
  }

  async commit(calls: MeteredCall[]): Promise<void> {
    await this.exclusive(() => writeMeteredUsage(this.store, calls));
    for (const call of calls) {
      const month = monthStartDay(Date.parse(call.day));
      if (call.reservation) this.drop(call.reservation);
      for (const scope of scopesOf(call)) {
        const c = this.counters.get(`${scope}|${month}`);
        if (c) c.spentNano += call.costNano;
      }
    }
  }

  async grow(reservation: SpendReservation, amountNano: number): Promise<void> {
    for (const scope of reservation.scopes) {
      const c = this.counters.get(`${scope}|${reservation.month}`);
      const held = c?.held.get(reservation.id);
      if (!c || !held) continue;
      moveHeld(c, amountNano - held.amountNano);
      held.amountNano = amountNano;
    }
    reservation.amountNano = amountNano;
  }

  async release(reservation: SpendReservation): Promise<void> {
    this.drop(reservation);
  }

  async renew(reservation: SpendReservation, expireTime: number): Promise<void> {
    for (const scope of reservation.scopes) {
      const held = this.counters.get(`${scope}|${reservation.month}`)?.held.get(reservation.id);
      // `nextExpiry` may now be early: the recount it triggers finds the later expiry.
      if (held) held.expireTime = Math.max(held.expireTime, expireTime);
    }
  }

  private drop(reservation: SpendReservation): void {
    for (const scope of reservation.scopes) {
      const c = this.counters.get(`${scope}|${reservation.month}`);
      const held = c?.held.get(reservation.id);
      if (!c || !held) continue;
      c.held.delete(reservation.id);
      moveHeld(c, -held.amountNano);
    }
  }
}
