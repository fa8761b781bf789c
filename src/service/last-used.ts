import type { Store } from "../store/store.ts";
import { writeLastUsed, type LastUse } from "../store/api-keys.ts";

/** The longest User-Agent kept (characters); a longer one is cut there. */
const USER_AGENT_MAX = 256;

/**
 * `lastUsed`, `lastUsedIp` and `lastUsedUserAgent` are written behind: a verification only notes
 * them in memory, and the newest use of each key is written in one batch per interval (and on
 * shutdown). A request never pays a write.
 */
export class LastUsedRecorder {
  private pending = new Map<string, LastUse>();
  /** Batches being written: still shown by `peek` until their write has committed. */
  private writing: Map<string, LastUse>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: Store;
  private readonly intervalMs: number;

  constructor(store: Store, intervalMs: number) {
    this.store = store;
    this.intervalMs = intervalMs;
  }

  /** Notes a use of `keyId` at `time` (epoch ms) by the client `meta` describes (address and User-Agent; empty when unknown). */
  note(keyId: string, time: number, meta?: { clientIp: string; userAgent: string }): void {
    this.pending.set(keyId, { time, ip: meta?.clientIp ?? "", userAgent: (meta?.userAgent ?? "").slice(0, USER_AGENT_MAX) });
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** The newest use of a key not yet committed to the store (noted, or in a batch being written), so reads see it before it is written. */
  peek(keyId: string): LastUse | undefined {
    const noted = this.pending.get(keyId);
    if (noted) return noted;
    for (let i = this.writing.length - 1; i >= 0; i--) {
      const use = this.writing[i]!.get(keyId);
      if (use) return use;
    }
    return undefined;
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size > 0) this.writing.push(batch);
    this.flushing = this.flushing.then(async () => {
      if (batch.size === 0) return;
      try {
        await this.store.db.transaction().execute((trx) => writeLastUsed(trx, batch));
      } catch {
        // Keep the times for the next attempt, unless newer ones arrived meanwhile.
        for (const [k, t] of batch) if (!this.pending.has(k)) this.pending.set(k, t);
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
      } finally {
        this.writing = this.writing.filter((b) => b !== batch);
      }
    });
    return this.flushing;
  }
}
