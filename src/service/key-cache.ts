import type { Principal } from "../domain/principal.ts";

/**
 * What a verified key resolves to, cached by its raw digest (`rawDigestKey`: the SHA-256's 32 bytes
 * as a latin1 string). A bounded map evicting its oldest entry, with
 * a TTL as the safety net; changes made on this process invalidate entries on the spot.
 */
export interface CachedKey {
  principal: Principal;
  /** Epoch milliseconds; null: never expires. */
  expireTime: number | null;
  /** Why the key is disabled (`DisableReason`); undefined while it is enabled. */
  disabledFor: string | undefined;
  cachedAt: number;
}

export interface KeyCacheOptions {
  size: number;
  ttlMs: number;
  negativeSize: number;
  negativeTtlMs: number;
}

export class KeyCache {
  private readonly positive = new Map<string, CachedKey>();
  /** Digests known not to exist: bounded, so a flood of random keys cannot grow memory. */
  private readonly negative = new Map<string, number>();
  private readonly options: KeyCacheOptions;
  /**
   * Bumped by every invalidation. A lookup that started before an invalidation must not cache
   * what it read, or a stale row read just before a commit could outlive the change.
   */
  epoch = 0;
  hits = 0;
  misses = 0;

  constructor(options: KeyCacheOptions) {
    this.options = options;
  }

  get(digest: string, now: number): CachedKey | undefined {
    const entry = this.positive.get(digest);
    if (entry && now - entry.cachedAt < this.options.ttlMs) {
      this.hits++;
      return entry;
    }
    if (entry) this.positive.delete(digest);
    this.misses++;
    return undefined;
  }

  isKnownMissing(digest: string, now: number): boolean {
    const at = this.negative.get(digest);
    if (at === undefined) return false;
    if (now - at < this.options.negativeTtlMs) return true;
    this.negative.delete(digest);
    return false;
  }

  set(digest: string, entry: CachedKey, epochAtRead: number): void {
    if (epochAtRead !== this.epoch || this.options.size === 0) return;
    this.positive.set(digest, entry);
    if (this.positive.size > this.options.size) this.positive.delete(this.positive.keys().next().value!);
  }

  setMissing(digest: string, now: number, epochAtRead: number): void {
    if (epochAtRead !== this.epoch || this.options.negativeSize === 0) return;
    this.negative.set(digest, now);
    if (this.negative.size > this.options.negativeSize) this.negative.delete(this.negative.keys().next().value!);
  }

  /** Drops every cached key matching `match` and fences in-flight lookups. */
  private drop(match: (p: Principal) => boolean): void {
    this.epoch++;
    for (const [digest, entry] of this.positive) if (match(entry.principal)) this.positive.delete(digest);
  }

  invalidateKey(keyId: string): void {
    this.drop((p) => p.apiKeyId === keyId);
  }

  /** A principal's role changed or it was deleted: all its keys are looked up afresh. */
  invalidateUser(accountId: string, userId: string): void {
    this.drop((p) => p.accountId === accountId && p.userId === userId);
  }

  /** A new key may have a digest that was probed before it existed. */
  forgetMissing(digest: string): void {
    this.negative.delete(digest);
  }

  clear(): void {
    this.epoch++;
    this.positive.clear();
    this.negative.clear();
  }

  get size(): number {
    return this.positive.size;
  }
}
