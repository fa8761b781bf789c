import type { SpendDecision, SpendLedger, SpendRequest, SpendReservation } from "../domain/spend-ledger.ts";

interface Account {
  month: string;
  /** Metered spend this month: seeded from the store at the account's first call, then settled into. */
  spentNano: number;
  held: Map<string, { amountNano: number; expireTime: number }>;
}

/**
 * Spend reservations of a single process (the embedded store). `reserve` is synchronous
 * underneath, so concurrent calls are admitted one at a time. The month's counter is seeded from
 * the store at the account's first call after start (so it is rebuilt at every start) and moved by
 * `settle`, which runs after the store has the metered cost.
 */
export class MemorySpendLedger implements SpendLedger {
  private readonly accounts = new Map<string, Account>();

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    let a = this.accounts.get(r.accountId);
    if (!a || a.month !== r.month) {
      a = { month: r.month, spentNano: r.spentNano, held: a?.held ?? new Map() };
      this.accounts.set(r.accountId, a);
    }
    let reservedNano = 0;
    for (const [id, h] of a.held) {
      if (h.expireTime <= r.now) a.held.delete(id);
      else reservedNano += h.amountNano;
    }
    if (a.spentNano + reservedNano >= r.limitNano) return { allowed: false, spentNano: a.spentNano, reservedNano };
    const reservation = { accountId: r.accountId, id: crypto.randomUUID(), amountNano: r.amountNano };
    a.held.set(reservation.id, { amountNano: r.amountNano, expireTime: r.expireTime });
    return { allowed: true, reservation };
  }

  async settle(reservation: SpendReservation, costNano: number, month: string): Promise<void> {
    const a = this.accounts.get(reservation.accountId);
    if (!a) return;
    a.held.delete(reservation.id);
    if (a.month === month) a.spentNano += costNano;
  }

  async release(reservation: SpendReservation): Promise<void> {
    this.accounts.get(reservation.accountId)?.held.delete(reservation.id);
  }
}
