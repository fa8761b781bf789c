import { USAGE_FLUSH_MS, type MeteredCall, type Meter, type SpendLedger } from "../domain/spend-ledger.ts";

/** Calls kept while the store refuses writes; past it the oldest are dropped (and reported). */
const MAX_PENDING = 200_000;

/**
 * Group commit of metered usage (see `Meter`): calls recorded within `USAGE_FLUSH_MS` of the first
 * one are written together by `ledger.commit`, one transaction for the whole batch. A batch the
 * store refused is kept and tried again with the next one (the write is one transaction: a failed
 * one wrote nothing, so a retry never counts twice).
 */
export class UsageBatch implements Meter {
  private readonly ledger: SpendLedger;
  private readonly onError: (error: unknown) => void;
  private pending: MeteredCall[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(ledger: SpendLedger, onError: (error: unknown) => void) {
    this.ledger = ledger;
    this.onError = onError;
  }

  record(call: MeteredCall): void {
    this.pending.push(call);
    if (this.pending.length > MAX_PENDING) {
      this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.onError(new Error(`metered usage dropped: more than ${MAX_PENDING} calls wait for the store`));
    }
    this.timer ??= setTimeout(() => void this.write().catch(this.onError), USAGE_FLUSH_MS);
  }

  /** Writes the batch gathered so far, after any write in progress. */
  private async write(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing.catch(() => undefined);
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.writing = this.ledger.commit(batch).then(
      () => undefined,
      (error: unknown) => {
        // Written again with the next batch, ahead of it.
        this.pending = [...batch, ...this.pending];
        this.timer ??= setTimeout(() => void this.write().catch(this.onError), USAGE_FLUSH_MS);
        throw error;
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  async flush(): Promise<void> {
    do await this.write();
    while (this.pending.length > 0);
  }
}
