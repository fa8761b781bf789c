/**
 * Spend reservations behind `monthly-spend-usd` (an account's) and `monthlySpendUsd` (an API
 * key's). A call's cost is known only when it ends, so each admitted call first reserves an upper
 * bound of it in every spend scope it falls under; a call is admitted while, in each scope, the
 * month's metered spend plus the reservations in flight stay under the limit, and its reservation
 * gives way to the metered cost when the usage is committed (released when the call failed). The
 * metered usage in the store stays the source of truth: a reservation whose process died expires,
 * and the shared counters are rebuilt from the store at start. The implementations are in
 * `src/cluster/` (process memory, PostgreSQL, Redis); none reads the metered usage per call.
 */

/** What a spend limit applies to: an account (`monthly-spend-usd`) or one API key (`monthlySpendUsd`). */
export interface SpendScope {
  /** `account:{accountId}` or `key:{apiKeyId}` (see `spendScopeOf`). */
  scope: string;
  /** The limit, nano-dollars. */
  limitNano: number;
}

/**
 * The counter name of an account's or a key's spend. A key's is named by its `limitsKeyId` (the
 * key it shares counters with), so that a rotated key's successor, or a key made through a limited
 * key, shares that key's month's spend.
 */
export const accountScope = (accountId: string): string => `account:${accountId}`;
export const keyScope = (limitsKeyId: string): string => `key:${limitsKeyId}`;

export interface SpendReservation {
  /** Unique per call. */
  id: string;
  /** The scopes it holds spend in (the account's first). */
  scopes: string[];
  /** The reserved upper bound, nano-dollars. */
  amountNano: number;
  /** The month it was reserved in, `YYYY-MM-DD` (as `monthStartDay`). */
  month: string;
}

export interface SpendRequest {
  /** Every scope the call falls under, each with its limit; admitted only when all have room. */
  scopes: SpendScope[];
  /** What to reserve, nano-dollars. */
  amountNano: number;
  /** First day of the month, `YYYY-MM-DD` (as `monthStartDay`). */
  month: string;
  /** When the reservation lapses if it is never settled (epoch ms). */
  expireTime: number;
  now: number;
}

/** A refusal says which scope refused and what it held: metered spend and reservations in flight, nano-dollars. */
export type SpendDecision =
  { allowed: true; reservation: SpendReservation } | { allowed: false; scope: string; limitNano: number; spentNano: number; reservedNano: number };

/** One metered call: a row of daily usage (summed into `usage_daily`) and the reservation it settles. */
export interface MeteredCall {
  accountId: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  model: string;
  /** The principal's email. */
  principal: string;
  /** Empty when not called with an API key. */
  apiKeyId: string;
  /** The id the key's own monthly spend counts under (`limitsKeyOf`); empty without a key. */
  limitsKeyId: string;
  promptTokens: number;
  completionTokens: number;
  /** The metered cost, nano-dollars. */
  costNano: number;
  /** The spend it held since admission; settled with `costNano` in the month of `day`. */
  reservation: SpendReservation | undefined;
}

export interface SpendLedger {
  /** Reserves `amountNano` in every scope when each has room (metered + reserved < limit), atomically across processes. */
  reserve(request: SpendRequest): Promise<SpendDecision>;
  /**
   * Writes a batch of metered calls to the store (group commit: one transaction) and settles their
   * reservations: after it, each call's cost counts as spent in its scopes, and never both as spent
   * and as reserved once both are visible. Rejects when the store write failed (nothing was written).
   */
  commit(calls: MeteredCall[]): Promise<void>;
  /**
   * The call ended costing more than it reserved (a call without `max_tokens` beyond its model's
   * ceiling): its reservation grows to `amountNano` (and `reservation.amountNano` with it), so that
   * until its usage is committed it holds what it spent.
   */
  grow(reservation: SpendReservation, amountNano: number): Promise<void>;
  /** The call failed before costing anything: the reservation goes. */
  release(reservation: SpendReservation): Promise<void>;
  /**
   * The call is still alive (its backend keeps sending): its reservation now lapses at `expireTime`
   * (epoch ms) instead, so a long stream keeps its spend held. A reservation already settled,
   * released or lapsed stays gone.
   */
  renew(reservation: SpendReservation, expireTime: number): Promise<void>;
}

/**
 * Metering off the response path: a call's usage is recorded (in memory) as it ends, and written
 * with its batch at most `USAGE_FLUSH_MS` later by `SpendLedger.commit` (group commit); until then
 * its reservation keeps its spend held. A graceful stop flushes; a process killed outright loses
 * the batch not yet written (at most `USAGE_FLUSH_MS` of calls; its reservations lapse), and
 * nothing is ever written twice.
 */
export interface Meter {
  /** Adds a call to the batch being gathered; never waits. */
  record(call: MeteredCall): void;
  /** Writes everything recorded so far (and waits for a write in progress). Rejects when the store write failed. */
  flush(): Promise<void>;
}

/** The longest a recorded call waits for its batch to be written, milliseconds. */
export const USAGE_FLUSH_MS = 100;
