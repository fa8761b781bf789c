import type { QuotaId } from "../domain/quotas.ts";
import type { DeploymentRow, ModelRow } from "../store/platform-rows.ts";
import { getDeployment } from "../store/deployments.ts";
import { getModel } from "../store/models.ts";
import { getQuota } from "../store/quotas.ts";
import type { Db } from "../store/store.ts";

/** An account's inference quotas as admission reads them: `serverless-inference-rpm` (requests a minute) and `monthly-spend-usd` (USD); 0 when missing. */
export interface InferenceQuotas {
  rpm: number;
  spendUsd: number;
}

interface AccountState {
  cachedAt: number;
  quotas?: InferenceQuotas;
  /** By id; null: known missing. */
  models: Map<string, ModelRow | null>;
  deployments: Map<string, DeploymentRow | null>;
}

/** Accounts kept; the oldest goes first. */
const MAX_ACCOUNTS = 50_000;
/** Models or deployments kept per account (names that do not exist included). */
const MAX_ROWS_PER_ACCOUNT = 1_000;

/**
 * What the gateway reads about an account on every inference call, kept in process memory: its
 * inference quotas, and its models and deployments by id. Kept exact like the key cache: a change
 * to an account's quotas, models or deployments invalidates the account here at once (before the
 * change's response is sent) and on every other process within a second (`Invalidation.account`:
 * PostgreSQL LISTEN/NOTIFY or Redis pub/sub); `ttlMs` is the safety net for a lost event or a
 * change made outside a server (an operator command). A read that began before an invalidation
 * is not cached (the epoch fence of `KeyCache`).
 */
export class InferenceCache {
  private readonly accounts = new Map<string, AccountState>();
  private readonly ttlMs: number;
  private epoch = 0;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  private state(accountId: string, now: number): AccountState {
    let s = this.accounts.get(accountId);
    if (s && now - s.cachedAt >= this.ttlMs) s = undefined;
    if (!s) {
      s = { cachedAt: now, models: new Map(), deployments: new Map() };
      this.accounts.set(accountId, s);
      if (this.accounts.size > MAX_ACCOUNTS) this.accounts.delete(this.accounts.keys().next().value!);
    }
    return s;
  }

  /** Reads through the cache: `read` runs on a miss, and what it returns is kept unless an invalidation came in between. */
  private async through<T>(
    accountId: string,
    get: (s: AccountState) => T | undefined,
    put: (s: AccountState, value: T) => void,
    read: () => Promise<T>,
  ): Promise<T> {
    const now = Date.now();
    const cached = get(this.state(accountId, now));
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    const value = await read();
    if (epoch === this.epoch) put(this.state(accountId, now), value);
    return value;
  }

  /** The account's inference quotas. */
  quotas(db: Db, accountId: string): Promise<InferenceQuotas> {
    // A hit (every call but the first after a change) allocates nothing but the promise.
    const cached = this.state(accountId, Date.now()).quotas;
    if (cached) return Promise.resolve(cached);
    const value = async (id: QuotaId) => (await getQuota(db, accountId, id))?.value ?? 0;
    return this.through(
      accountId,
      (s) => s.quotas,
      (s, q) => (s.quotas = q),
      async () => ({ rpm: await value("serverless-inference-rpm"), spendUsd: await value("monthly-spend-usd") }),
    );
  }

  /** One of the account's models, or undefined. */
  async model(db: Db, accountId: string, modelId: string): Promise<ModelRow | undefined> {
    const row = await this.through(
      accountId,
      (s) => s.models.get(modelId),
      (s, r) => bounded(s.models, modelId, r),
      async () => (await getModel(db, accountId, modelId)) ?? null,
    );
    return row ?? undefined;
  }

  /** One of the account's deployments (deleted ones included, as the store has them), or undefined. */
  async deployment(db: Db, accountId: string, deploymentId: string): Promise<DeploymentRow | undefined> {
    const row = await this.through(
      accountId,
      (s) => s.deployments.get(deploymentId),
      (s, r) => bounded(s.deployments, deploymentId, r),
      async () => (await getDeployment(db, accountId, deploymentId)) ?? null,
    );
    return row ?? undefined;
  }

  /** The account's quotas, models or deployments changed: read them afresh. */
  invalidateAccount(accountId: string): void {
    this.epoch++;
    this.accounts.delete(accountId);
  }

  clear(): void {
    this.epoch++;
    this.accounts.clear();
  }
}

function bounded<T>(map: Map<string, T>, key: string, value: T): void {
  map.set(key, value);
  if (map.size > MAX_ROWS_PER_ACCOUNT) map.delete(map.keys().next().value!);
}
