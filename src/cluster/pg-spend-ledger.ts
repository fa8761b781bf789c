import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { SpendDecision, SpendLedger, SpendRequest, SpendReservation } from "../domain/spend-ledger.ts";
import type { Store } from "../store/store.ts";

const SWEEP_MS = 60_000;

/**
 * Spend reservations shared by every process on one PostgreSQL. The account's transaction-scoped
 * advisory lock admits one reservation at a time; the check reads the metered usage itself
 * (`usage_daily`) and the live reservations in one snapshot, so no counter can drift. A call's
 * usage is committed before its reservation is deleted: in between it is counted twice, never
 * not at all.
 */
export class PgSpendLedger implements SpendLedger {
  private readonly store: Store;
  private lastSweep = 0;

  constructor(store: Store) {
    this.store = store;
  }

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    const id = randomUUID();
    const row = await this.store.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`hearth-spend:${r.accountId}`}, 0))`.execute(trx);
      const result = await sql<{ spent: string | number; reserved: string | number; admitted: string | number }>`
        with totals as (
          select
            (select coalesce(sum(spend_nano), 0) from usage_daily where account_id = ${r.accountId} and day >= ${r.month}) as spent,
            (select coalesce(sum(amount_nano), 0) from spend_reservations where account_id = ${r.accountId} and expire_time > ${r.now}) as reserved
        ), held as (
          insert into spend_reservations (id, account_id, amount_nano, expire_time)
          select ${id}, ${r.accountId}, ${r.amountNano}, ${r.expireTime} from totals where totals.spent + totals.reserved < ${r.limitNano}
          returning id
        )
        select spent, reserved, (select count(*) from held) as admitted from totals`.execute(trx);
      return result.rows[0]!;
    });
    if (r.now - this.lastSweep > SWEEP_MS) {
      this.lastSweep = r.now;
      await sql`delete from spend_reservations where expire_time <= ${r.now}`.execute(this.store.db);
    }
    if (Number(row.admitted) === 1) return { allowed: true, reservation: { accountId: r.accountId, id, amountNano: r.amountNano } };
    return { allowed: false, spentNano: Number(row.spent), reservedNano: Number(row.reserved) };
  }

  async settle(reservation: SpendReservation): Promise<void> {
    await this.release(reservation);
  }

  async release(reservation: SpendReservation): Promise<void> {
    await sql`delete from spend_reservations where id = ${reservation.id}`.execute(this.store.db);
  }
}
