import { ApiError } from "../domain/errors.ts";
import { windowStart } from "../domain/sliding-window.ts";
import { writeAudit } from "../service/audit.ts";
import type { Ctx } from "../service/context.ts";
import type { Store } from "../store/store.ts";
import { accountName } from "../domain/resource-names.ts";

/**
 * @module Inference requests refused by `serverless-inference-rpm` are audited in aggregate, as
 * failed authentications are per address (`auth-throttle.ts`): a client retrying in a tight loop
 * would otherwise write an entry per attempt. Per API key and minute (UTC), the first
 * `AUDITED_ONE_BY_ONE` refusals are audited one by one; the rest are counted and written as one
 * summary entry (`RateLimitedInferenceRequests`) when the minute has ended, or when the process stops.
 */

/** Refusals per key and minute audited one by one. */
const AUDITED_ONE_BY_ONE = 3;
const SWEEP_MS = 5_000;

interface Tally {
  ctx: Ctx;
  operation: string;
  audited: number;
  suppressed: number;
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
  count(ctx: Ctx, operation: string, now: number): boolean {
    if (windowStart(now) !== this.minute) void this.flush(now);
    const p = ctx.principal;
    const key = JSON.stringify([p.accountId, p.apiKeyId, p.email]);
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { ctx, operation, audited: 0, suppressed: 0 }));
    if (t.audited < AUDITED_ONE_BY_ONE) {
      t.audited++;
      return true;
    }
    t.suppressed++;
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
        payload: { operation: t.operation, refusals: t.suppressed, minute: new Date(minute).toISOString() },
      };
      const error = new ApiError(
        "RESOURCE_EXHAUSTED",
        `${t.suppressed} more inference requests refused by quota "serverless-inference-rpm" in the minute from ${new Date(minute).toISOString()}`,
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
          meta: t.ctx.meta,
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
 * Counts an RPM refusal of this request; when a summary entry will stand for it, marks the request
 * so the router writes no entry of its own (`ctx.summarised`).
 */
export function countRateRefusal(store: Store, ctx: Ctx, operation: string, now = Date.now()): void {
  let t = tallies.get(store);
  if (!t) tallies.set(store, (t = new RateRefusals(store)));
  if (!t.count(ctx, operation, now)) ctx.summarised = true;
}

/** Writes every pending summary (at shutdown, before the store closes). */
export async function flushRateRefusals(store: Store): Promise<void> {
  await tallies.get(store)?.stop();
  tallies.delete(store);
}
