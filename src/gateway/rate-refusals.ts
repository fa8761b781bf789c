import { ApiError } from "../domain/errors.ts";
import { windowStart } from "../domain/sliding-window.ts";
import { writeAudit } from "../service/audit.ts";
import type { Ctx } from "../service/context.ts";
import type { Store } from "../store/store.ts";
import { accountName } from "../domain/resource-names.ts";

/**
 * @module Inference requests refused by a rate limit (the account's `serverless-inference-rpm`, a
 * key's `rpm` or `tpm`) are audited in aggregate, as failed authentications are per address
 * (`auth-throttle.ts`): a client retrying in a tight loop would otherwise write an entry per
 * attempt. Per API key, limit and minute (UTC), the first `AUDITED_ONE_BY_ONE` refusals are audited
 * one by one; the rest are counted and written as one summary entry (`RateLimitedInferenceRequests`,
 * naming the limit, with the distinct client addresses in its payload rather than one request's
 * address and user agent) when the minute has ended, or when the process stops.
 */

/** Refusals per key, limit and minute audited one by one. */
const AUDITED_ONE_BY_ONE = 3;
/** Distinct client addresses a summary lists. */
const ADDRESSES_LISTED = 20;
const SWEEP_MS = 5_000;

interface Tally {
  ctx: Ctx;
  operation: string;
  /** The window that refused, as its refusal names it. */
  limit: string;
  audited: number;
  suppressed: number;
  /** The addresses the summarised refusals came from (at most ADDRESSES_LISTED). */
  clientIps: Set<string>;
}

class RateRefusals {
  private minute = 0;
  private tallies = new Map<string, Tally>();
  private readonly store: Store;
  private readonly sweeper: NodeJS.Timeout;

  constructor(store: Store) {
    this.store = store;
    this.sweeper = setInterval(() => void this.flush(Date.now()), SWEEP_MS).unref();
  }

  /** Counts a refusal; true when it is audited one by one, false when a summary will stand for it. */
  count(ctx: Ctx, operation: string, limit: string, now: number): boolean {
    if (windowStart(now) !== this.minute) void this.flush(now);
    const p = ctx.principal;
    const key = JSON.stringify([p.accountId, p.apiKeyId, p.email, limit]);
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { ctx, operation, limit, audited: 0, suppressed: 0, clientIps: new Set() }));
    if (t.audited < AUDITED_ONE_BY_ONE) {
      t.audited++;
      return true;
    }
    t.suppressed++;
    if (t.clientIps.size < ADDRESSES_LISTED) t.clientIps.add(ctx.meta.clientIp);
    return false;
  }

  /** Writes the summaries of the minute that ended before `now` (of the current one too, with `all`). */
  async flush(now: number, all = false): Promise<void> {
    if (!all && windowStart(now) === this.minute) return;
    const minute = this.minute;
    const tallies = this.tallies;
    this.minute = windowStart(now);
    this.tallies = new Map();
    for (const t of tallies.values()) {
      if (t.suppressed === 0) continue;
      const p = t.ctx.principal;
      const op = {
        method: "RateLimitedInferenceRequests",
        resource: accountName(p.accountId),
        isAdminAction: false,
        payload: { operation: t.operation, limit: t.limit, refusals: t.suppressed, minute: new Date(minute).toISOString(), clientIps: [...t.clientIps] },
      };
      const error = new ApiError(
        "RESOURCE_EXHAUSTED",
        `${t.suppressed} more inference requests refused by ${t.limit} in the minute from ${new Date(minute).toISOString()}`,
      );
      // Nobody waits for this entry: a failed write is reported in the process log (by writeAudit).
      await writeAudit(
        this.store.db,
        {
          accountId: p.accountId,
          email: p.email,
          principalUid: p.uid,
          apiKeyId: p.apiKeyId,
          principalType: p.serviceAccount ? "SERVICE_ACCOUNT" : "USER",
          // Many requests: no one request's address, user agent or id (the addresses are in the payload).
          meta: { userAgent: "", clientIp: "", authentication: t.ctx.meta.authentication },
        },
        op,
        error,
      ).catch(() => undefined);
    }
  }

  stop(): Promise<void> {
    clearInterval(this.sweeper);
    return this.flush(Date.now(), true);
  }
}

const tallies = new WeakMap<Store, RateRefusals>();

/**
 * Counts a rate-limit refusal of this request by `limit` (as the refusal names it); when a summary entry will stand for it, marks the request
 * so the router writes no entry of its own (`ctx.summarised`).
 */
export function countRateRefusal(store: Store, ctx: Ctx, operation: string, limit: string, now = Date.now()): void {
  let t = tallies.get(store);
  if (!t) tallies.set(store, (t = new RateRefusals(store)));
  if (!t.count(ctx, operation, limit, now)) ctx.summarised = true;
}

/** Writes every pending summary (at shutdown, before the store closes). */
export async function flushRateRefusals(store: Store): Promise<void> {
  await tallies.get(store)?.stop();
  tallies.delete(store);
}
