import { costNano, utcDay, type Prices } from "../domain/pricing.ts";
import type { Principal } from "../domain/principal.ts";
import type { Store } from "../store/store.ts";
import type { UsageDailyRow } from "../store/platform-rows.ts";
import { addUsage } from "../store/usage.ts";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

/** The `usage` object of an OpenAI-style response or final stream chunk, if it has one. */
export function usageOf(value: unknown): TokenUsage | undefined {
  const usage = (value as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (!usage || typeof usage !== "object") return undefined;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  return { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 };
}

/**
 * A rough count (four characters a token) for when the backend reports no usage, e.g. a stream
 * cut short: metering something is better than letting a disconnect make a request free.
 */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

const keyOf = (r: UsageDailyRow): string => JSON.stringify([r.account_id, r.day, r.model, r.principal, r.api_key_id]);

/**
 * Writes usage rows with group commit: a request's row is written at once when nothing else is
 * being written; requests arriving while a write is in flight are merged (per account, day,
 * model, principal and key) and written together in the next one. Each caller waits for the
 * write that holds its row, so a request is metered before it completes, but a hot row (one key
 * under load) costs one upsert per commit instead of one per request, and concurrent writers
 * never queue on its row lock one by one.
 */
class UsageWriter {
  private pending = new Map<string, UsageDailyRow>();
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private running = false;
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  add(row: UsageDailyRow): Promise<void> {
    const key = keyOf(row);
    const prior = this.pending.get(key);
    if (prior) {
      prior.requests += row.requests;
      prior.prompt_tokens += row.prompt_tokens;
      prior.completion_tokens += row.completion_tokens;
      prior.spend_nano += row.spend_nano;
    } else {
      this.pending.set(key, { ...row });
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) void this.run();
    return done;
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.pending.size > 0) {
      const batch = this.pending;
      const waiters = this.waiters;
      this.pending = new Map();
      this.waiters = [];
      try {
        // A fixed order, so that processes writing the same rows take their locks in the same order.
        const rows = [...batch.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
        if (rows.length === 1) await addUsage(this.store.db, rows[0]!);
        else
          await this.store.db.transaction().execute(async (trx) => {
            for (const r of rows) await addUsage(trx, r);
          });
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    this.running = false;
  }
}

const writers = new WeakMap<Store, UsageWriter>();

/** Adds one request to the account's daily usage row for this model, principal and key. */
export function meter(store: Store, principal: Principal, model: string, prices: Prices, usage: TokenUsage, now = Date.now()): Promise<void> {
  let writer = writers.get(store);
  if (!writer) writers.set(store, (writer = new UsageWriter(store)));
  return writer.add({
    account_id: principal.accountId,
    day: utcDay(now),
    model,
    principal: principal.email,
    api_key_id: principal.apiKeyId,
    requests: 1,
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    spend_nano: costNano(prices, usage.promptTokens, usage.completionTokens),
  });
}
