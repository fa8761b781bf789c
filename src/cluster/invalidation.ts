import type { InvalidatedCache, Invalidation } from "../domain/cluster.ts";

/**
 * Cache invalidation across processes. A change to a key, a principal or an account's quotas,
 * models or deployments is applied to this process's caches at once and published to every other
 * process (PostgreSQL LISTEN/NOTIFY, or Redis pub/sub when configured). A process that loses its subscription clears its whole cache
 * when it reconnects, since it may have missed events; the cache TTL is the last safety net.
 */
export type InvalidationEvent = { kind: "key"; keyId: string } | { kind: "user"; accountId: string; userId: string } | { kind: "account"; accountId: string };

/** Carries events between processes. */
export interface Transport {
  publish(message: string): Promise<void>;
  /** Calls `onMessage` for every event (its own included) and `onGap` after a reconnect. */
  subscribe(onMessage: (message: string) => void, onGap: () => void): Promise<void>;
  close(): Promise<void>;
}

export const CHANNEL = "hearth_invalidate";

function parseEvent(message: string): InvalidationEvent | undefined {
  try {
    const e = JSON.parse(message) as Partial<InvalidationEvent> & Record<string, unknown>;
    if (e.kind === "key" && typeof e.keyId === "string") return { kind: "key", keyId: e.keyId };
    if (e.kind === "user" && typeof e.accountId === "string" && typeof e.userId === "string") {
      return { kind: "user", accountId: e.accountId, userId: e.userId };
    }
    if (e.kind === "account" && typeof e.accountId === "string") return { kind: "account", accountId: e.accountId };
  } catch {
    // a malformed message is ignored: it cannot name anything to invalidate
  }
  return undefined;
}

export class Invalidator implements Invalidation {
  private readonly cache: InvalidatedCache;
  private readonly transport: Transport | undefined;
  private readonly onError: (error: unknown) => void;
  received = 0;

  constructor(cache: InvalidatedCache, transport: Transport | undefined, onError: (error: unknown) => void) {
    this.cache = cache;
    this.transport = transport;
    this.onError = onError;
  }

  async start(): Promise<void> {
    await this.transport?.subscribe(
      (message) => {
        const event = parseEvent(message);
        if (!event) return;
        this.received++;
        this.apply(event);
      },
      () => this.cache.clear(),
    );
  }

  private apply(event: InvalidationEvent): void {
    if (event.kind === "key") this.cache.invalidateKey(event.keyId);
    else if (event.kind === "user") this.cache.invalidateUser(event.accountId, event.userId);
    else this.cache.invalidateAccount(event.accountId);
  }

  /** Applies locally now, then tells the other processes. Never throws: the TTL covers a lost event. */
  async publish(event: InvalidationEvent): Promise<void> {
    this.apply(event);
    if (!this.transport) return;
    try {
      await this.transport.publish(JSON.stringify(event));
    } catch (error) {
      this.onError(error);
    }
  }

  key(keyId: string): Promise<void> {
    return this.publish({ kind: "key", keyId });
  }

  user(accountId: string, userId: string): Promise<void> {
    return this.publish({ kind: "user", accountId, userId });
  }

  account(accountId: string): Promise<void> {
    return this.publish({ kind: "account", accountId });
  }

  close(): Promise<void> {
    return this.transport?.close() ?? Promise.resolve();
  }
}
