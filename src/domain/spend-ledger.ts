/**
 * Spend reservations behind `monthly-spend-usd`. A call's cost is known only when it ends, so each
 * admitted call first reserves an upper bound of it; a call is admitted while the month's metered
 * spend plus the reservations in flight stay under the limit, and its reservation is settled with
 * the metered cost when it ends (released when it failed). The metered usage in the store stays
 * the source of truth: a reservation whose process died expires, and shared counters are rebuilt
 * from the store. The implementations are in `src/cluster/` (process memory, PostgreSQL, Redis).
 */
export interface SpendReservation {
  accountId: string;
  /** Unique per call. */
  id: string;
  /** The reserved upper bound, nano-dollars. */
  amountNano: number;
}

export interface SpendRequest {
  accountId: string;
  /** `monthly-spend-usd` in nano-dollars. */
  limitNano: number;
  /** What to reserve, nano-dollars. */
  amountNano: number;
  /** The month's metered spend as the store holds it now (seeds a shared counter that is missing). */
  spentNano: number;
  /** First day of the month, `YYYY-MM-DD` (as `monthStartDay`). */
  month: string;
  /** When the reservation lapses if it is never settled (epoch ms). */
  expireTime: number;
  now: number;
}

/** A refusal says what was committed: metered spend and reservations in flight, nano-dollars. */
export type SpendDecision = { allowed: true; reservation: SpendReservation } | { allowed: false; spentNano: number; reservedNano: number };

export interface SpendLedger {
  /** Reserves `amountNano` if metered spend + reservations < the limit, atomically across processes. */
  reserve(request: SpendRequest): Promise<SpendDecision>;
  /** The call ended and `costNano` is metered in the store (in `month`): the reservation gives way to it. */
  settle(reservation: SpendReservation, costNano: number, month: string): Promise<void>;
  /** The call failed before costing anything: the reservation goes. */
  release(reservation: SpendReservation): Promise<void>;
}
