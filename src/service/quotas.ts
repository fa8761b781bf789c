import { invalidArgument, notFound } from "../domain/errors.ts";
import { isQuotaId, QUOTA_IDS, type QuotaId } from "../domain/quotas.ts";
import { quotaName } from "../domain/ids.ts";
import * as quotas from "../store/quotas.ts";
import { countUsers } from "../store/users.ts";
import { maxApiKeysPerUser } from "../store/api-keys.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";
import { quotaView } from "./views.ts";
import { platformUsage } from "./platform-usage.ts";

function checkQuotaId(id: string): QuotaId {
  if (!isQuotaId(id)) throw notFound(`quota "${id}" not found (quotas: ${QUOTA_IDS.join(", ")})`);
  return id;
}

/** The admin-set limit currently in force for one quota. */
export async function readQuotaValue(db: Db, accountId: string, id: QuotaId): Promise<number> {
  const row = await quotas.getQuota(db, accountId, id);
  if (!row) throw notFound(`quota "${id}" not found`);
  return row.value;
}

/**
 * Usage is computed from the store (counts) or, for metered quotas, from the meter; never from a
 * counter that can drift. The platform quotas (deployments, datasets, spend, rpm) are counted in
 * platform-usage.ts.
 */
async function usage(deps: Deps, db: Db, accountId: string, id: QuotaId): Promise<number> {
  const platform = await platformUsage(deps, db, accountId, id);
  if (platform !== undefined) return platform;
  switch (id) {
    case "service-accounts":
      return countUsers(db, accountId, { serviceAccount: true });
    case "api-keys-per-user":
      return maxApiKeysPerUser(db, accountId);
    default:
      return 0;
  }
}

export async function listQuotas(deps: Deps, ctx: Ctx, accountId: string) {
  const op = { method: "ListQuotas", resource: `accounts/${accountId}/quotas` };
  return auditRefusals(deps, ctx, op, async () => {
    authorize(ctx, "quotas.list");
    const rows = await quotas.listQuotas(deps.store.db, accountId);
    const views = await Promise.all(rows.map(async (r) => quotaView(r, await usage(deps, deps.store.db, accountId, r.id as QuotaId))));
    return { quotas: views, nextPageToken: "", totalSize: views.length };
  });
}

export async function getQuota(deps: Deps, ctx: Ctx, accountId: string, quotaId: string) {
  const op = { method: "GetQuota", resource: quotaName(accountId, quotaId) };
  return auditRefusals(deps, ctx, op, async () => {
    authorize(ctx, "quotas.get");
    const id = checkQuotaId(quotaId);
    const row = await quotas.getQuota(deps.store.db, accountId, id);
    if (!row) throw notFound(`quota "${id}" not found`);
    return quotaView(row, await usage(deps, deps.store.db, accountId, id));
  });
}

export async function updateQuota(deps: Deps, ctx: Ctx, accountId: string, quotaId: string, value: number) {
  const op = { method: "UpdateQuota", resource: quotaName(accountId, quotaId), payload: { value: String(value) } };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "quotas.update");
    const id = checkQuotaId(quotaId);
    const row = await quotas.getQuota(trx, accountId, id);
    if (!row) throw notFound(`quota "${id}" not found`);
    if (value > row.max_value) {
      throw invalidArgument(`quota "${id}" value ${value} exceeds its maxValue ${row.max_value}; ask the operator to raise the maximum`);
    }
    const now = Date.now();
    await quotas.setQuota(trx, accountId, id, { value }, now);
    return quotaView({ ...row, value, update_time: now }, await usage(deps, trx, accountId, id));
  });
}

/**
 * Operator action (no principal): sets a quota's maximum. An admin value above the new maximum is
 * lowered to it; a value that sat at the old maximum follows it up.
 */
export async function setQuotaMax(db: Db, accountId: string, quotaId: string, max: number): Promise<void> {
  const id = checkQuotaId(quotaId);
  const row = await quotas.getQuota(db, accountId, id);
  if (!row) throw notFound(`account "${accountId}" not found`);
  await quotas.setQuota(db, accountId, id, { max_value: max, value: row.value >= row.max_value ? max : Math.min(row.value, max) }, Date.now());
}
