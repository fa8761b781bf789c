import type { Store } from "../store/store.ts";
import { writeLastUsed } from "../store/api-keys.ts";

/**
 * `lastUsed` is written behind: a verification only notes the time in memory, and the newest time
 * of each key is written in one batch per interval (and on shutdown). A request never pays a write.
 */
export class LastUsedRecorder {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: Store;
  private readonly intervalMs: number;

  constructor(store: Store, intervalMs: number) {
    this.store = store;
    this.intervalMs = intervalMs;
  }

  note(keyId: string, time: number): void {
    this.pending.set(keyId, time);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** The newest unflushed time for a key, so reads see it before it is written. */
  peek(keyId: string): number | undefined {
    return this.pending.get(keyId);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      if (batch.size === 0) return;
      try {
        await this.store.db.transaction().execute((trx) => writeLastUsed(trx, batch));
      } catch {
        // Keep the times for the next attempt, unless newer ones arrived meanwhile.
        for (const [k, t] of batch) if (!this.pending.has(k)) this.pending.set(k, t);
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
      }
    });
    return this.flushing;
  }
}
