import { ApiError, invalidArgument, notFound, resourceExhausted } from "../domain/errors.ts";
import { isQuotaId, QUOTA_DEFAULTS, QUOTA_IDS, type QuotaId } from "../domain/quotas.ts";
import * as quotas from "../store/quotas.ts";
import { countHumanUsers, countServiceAccounts } from "../store/users.ts";
import { countApiKeys, maxApiKeysPerUser } from "../store/api-keys.ts";
import { lockAccount } from "../store/accounts.ts";
import type { Db, Store } from "../store/store.ts";
import type { ListRequest } from "../store/list.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps, Operation } from "./context.ts";
import { operatorChange } from "./operator-audit.ts";
import { authorize } from "./permissions.ts";
import { platformUsage } from "./platform-usage.ts";
import { noteQuotaUse } from "./quota-thresholds.ts";
import { collectionName, quotaName } from "../domain/resource-names.ts";
import { formatTimestamp } from "../domain/time.ts";
import type { QuotaRow } from "../store/schema.ts";
import type { Quota } from "../http/resources/quota.ts";

/** A quota as the API answers it: `value` and `maxValue` as strings (int64 in JSON), `usage` in the quota's units. */
function quotaView(row: QuotaRow, usage: number): Quota {
  return {
    name: quotaName(row.account_id, row.id),
    value: String(row.value),
    maxValue: String(row.max_value),
    usage,
    updateTime: formatTimestamp(row.update_time),
  };
}

function checkQuotaId(id: string): QuotaId {
  if (!isQuotaId(id)) throw notFound(`quota "${id}" not found (quotas: ${QUOTA_IDS.join(", ")})`);
  return id;
}

/** The quotas a create or upload reserves units of (`reserve`): every one but the metered ones. */
type ItemQuotaId = Exclude<QuotaId, "serverless-inference-rpm" | "monthly-spend-usd">;

/** What reserving a quota needs of the server's dependencies (sign-in provisions users with no more). */
type ReserveDeps = Pick<Deps, "store" | "clock">;

/**
 * Current use of one quota, in its units (items; bytes for "dataset-storage-bytes"; USD, requests
 * per minute for the metered ones): the rate limiter's window for "serverless-inference-rpm", else
 * `storedUsage`.
 */
async function usage(deps: Deps, db: Db, accountId: string, id: QuotaId, userId?: string): Promise<number> {
  if (id === "serverless-inference-rpm") return deps.rateLimiter.used(accountId);
  return storedUsage(db, accountId, id, deps.clock.now(), userId);
}

/**
 * Use of a quota counted from the store, or kept by the store in the transaction of every change
 * (so it cannot drift). The platform quotas (deployments, datasets, storage, spend) are counted in
 * platform-usage.ts. "service-accounts" is the account's count kept by triggers
 * (`countServiceAccounts`: one row read, however many there are); "users" counts the account's
 * humans (an index range). "webhooks", "audit-sinks", "models", "identity-providers" and
 * "permission-presets" count the account's rows of each (store/quotas.ts `countedRows`). "api-keys-per-user" counts the usable keys (enabled, not expired at `now`, epoch ms) of
 * `userId`, or without it the most any one principal holds.
 */
async function storedUsage(db: Db, accountId: string, id: Exclude<QuotaId, "serverless-inference-rpm">, now: number, userId?: string): Promise<number> {
  const counted = (await platformUsage(db, accountId, id)) ?? (await quotas.countedRows(db, accountId, id));
  if (counted !== undefined) return counted;
  switch (id) {
    case "service-accounts":
      return countServiceAccounts(db, accountId);
    case "users":
      return countHumanUsers(db, accountId);
    case "api-keys-per-user":
      return userId === undefined ? maxApiKeysPerUser(db, accountId, now) : countApiKeys(db, accountId, userId, now);
    default:
      return 0;
  }
}

/** One quota of one account (and, for "api-keys-per-user", one principal): the admin-set `value` in force and the `used` amount, in the quota's units. */
interface QuotaUse {
  id: QuotaId;
  value: number;
  used: number;
}

/**
 * Reads a quota's value and counts its use. Without the account lock this is an estimate (for an
 * early refusal); the binding check is `reserve`'s.
 * @param userId the principal a per-user quota ("api-keys-per-user") is counted for.
 */
export async function readQuotaUse(deps: Deps, db: Db, accountId: string, id: QuotaId, userId?: string): Promise<QuotaUse> {
  const row = await quotas.getQuota(db, accountId, id);
  if (!row) throw notFound(`quota "${id}" not found`);
  return { id, value: row.value, used: await usage(deps, db, accountId, id, userId) };
}

/**
 * @throws RESOURCE_EXHAUSTED (429) when `amount` more units would take `use` above its value:
 *   `quota "service-accounts" exceeded: 10 of 10 in use, this request needs 1 more`.
 */
export function checkQuotaRoom(use: QuotaUse, amount: number): void {
  if (use.used + amount > use.value) {
    throw resourceExhausted(`quota "${use.id}" exceeded: ${use.used} of ${use.value} in use, this request needs ${amount} more`);
  }
}

/**
 * Reserves `amount` units of quota `id` for a change the caller then writes in `trx`: locks the
 * account (concurrent reservations of one account run one after the other, so together they
 * cannot overshoot; locking an account the transaction already holds is harmless), reads the
 * quota's value, counts the current use and refuses when use + amount > value.
 * Units: items (1 per created resource); bytes for "dataset-storage-bytes".
 * @param userId the principal a per-user quota ("api-keys-per-user") is counted for.
 * @throws RESOURCE_EXHAUSTED (429), see `checkQuotaRoom`.
 */
export async function reserve(deps: ReserveDeps, trx: Db, accountId: string, id: ItemQuotaId, amount: number, userId?: string): Promise<void> {
  await lockAccount(deps.store, trx, accountId);
  const row = await quotas.getQuota(trx, accountId, id);
  if (!row) throw notFound(`quota "${id}" not found`);
  const use = { id, value: row.value, used: await storedUsage(trx, accountId, id, deps.clock.now(), userId) };
  checkQuotaRoom(use, amount);
  await noteQuotaUse(deps, trx, accountId, id, use.used, use.used + amount, use.value);
}

/**
 * Creates one resource counted by quota `id`: reserves its unit (`reserve`), then runs `insert`
 * (which raises ALREADY_EXISTS for a taken id or name). When the quota is full, `insert` is still
 * tried before the refusal, in the transaction the refusal rolls back: a create whose resource
 * exists is answered ALREADY_EXISTS (409) whatever the quota's use, so that a client retrying a
 * create that did land learns that it did (AIP-133), not that the quota is full.
 * @returns what `insert` returns.
 * @throws ALREADY_EXISTS (409) from `insert`; RESOURCE_EXHAUSTED (429), see `checkQuotaRoom`.
 */
export async function createWithinQuota<T>(deps: ReserveDeps, trx: Db, accountId: string, id: ItemQuotaId, insert: () => Promise<T>): Promise<T> {
  try {
    await reserve(deps, trx, accountId, id, 1);
  } catch (refusal) {
    if (!(refusal instanceof ApiError && refusal.status === "RESOURCE_EXHAUSTED")) throw refusal;
    await insert();
    throw refusal;
  }
  return insert();
}

/** ListQuotas: one page (AIP-158) of the account's quotas matching `req.filter` (AIP-160), by name, each with its usage. */
export async function listQuotas(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListQuotas", resource: collectionName(accountId, "quotas") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "quotas.list");
    await deps.cluster.meter.flush(); // this process's calls are metered behind their responses
    const page = await quotas.listQuotaPage(deps.store.db, accountId, req);
    const views = await Promise.all(page.rows.map(async (r) => quotaView(r, await usage(deps, deps.store.db, accountId, r.id as QuotaId))));
    return { quotas: views, nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

export async function getQuota(deps: Deps, ctx: Ctx, accountId: string, quotaId: string) {
  const op = { method: "GetQuota", resource: quotaName(accountId, quotaId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "quotas.get");
    const id = checkQuotaId(quotaId);
    await deps.cluster.meter.flush(); // this process's calls are metered behind their responses
    const row = await quotas.getQuota(deps.store.db, accountId, id);
    if (!row) throw notFound(`quota "${id}" not found`);
    return quotaView(row, await usage(deps, deps.store.db, accountId, id));
  });
}

/**
 * UpdateQuota: sets a quota's value, at most its maxValue. With `allowMissing` (AIP-134) a quota the
 * account has no row for yet is created at its default maximum instead of NOT_FOUND; a quota id that
 * is not one of Hearth's quotas is NOT_FOUND either way.
 * @throws NOT_FOUND (unknown quota; no row without `allowMissing`), INVALID_ARGUMENT (value above maxValue).
 */
export async function updateQuota(deps: Deps, ctx: Ctx, accountId: string, quotaId: string, value: number, allowMissing = false) {
  const op = { method: "UpdateQuota", resource: quotaName(accountId, quotaId), payload: { value: String(value) } };
  const updated = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "quotas.update");
    const id = checkQuotaId(quotaId);
    const row = await quotas.getQuota(trx, accountId, id);
    if (!row && !allowMissing) throw notFound(`quota "${id}" not found`);
    const maxValue = row?.max_value ?? QUOTA_DEFAULTS[id];
    if (value > maxValue) {
      throw invalidArgument(`quota "${id}" value ${value} exceeds its maxValue ${maxValue}; ask the operator to raise the maximum`);
    }
    const now = Date.now();
    if (!row) return quotaView(await quotas.insertQuota(trx, accountId, id, value, now), await usage(deps, trx, accountId, id));
    await quotas.setQuota(trx, accountId, id, { value }, now);
    return quotaView({ ...row, value, update_time: now }, await usage(deps, trx, accountId, id));
  });
  // The gateway admits inference with the account's quotas in memory: on every process, read afresh.
  await deps.cluster.invalidator.account(accountId);
  return updated;
}

/**
 * Operator action (`hearth account quota set`): sets a quota's maximum, in one transaction with its
 * audit entry (`UpdateQuota`, principal "operator"; payload: the new and previous `maxValue` and
 * `value`, as int64 strings). An admin value above the new maximum is lowered to it; a value that
 * sat at the old maximum follows it up. A refusal on an existing account is audited too.
 * @throws NOT_FOUND (account, quota).
 */
export async function setQuotaMax(store: Store, accountId: string, quotaId: string, max: number): Promise<void> {
  const op: Operation = { method: "UpdateQuota", resource: quotaName(accountId, quotaId), payload: { maxValue: String(max) } };
  await operatorChange(store, accountId, op, async (trx) => {
    const id = checkQuotaId(quotaId);
    const row = await quotas.getQuota(trx, accountId, id);
    if (!row) throw notFound(`account "${accountId}" not found`);
    const value = row.value >= row.max_value ? max : Math.min(row.value, max);
    await quotas.setQuota(trx, accountId, id, { max_value: max, value }, Date.now());
    op.payload = { maxValue: String(max), value: String(value), previousMaxValue: String(row.max_value), previousValue: String(row.value) };
  });
}
