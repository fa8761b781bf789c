/**
 * @module The account's audit settings, a singleton resource (AIP-156) `accounts/{a}/auditSettings`:
 * `dataAccessLogs` switches data-access entries on (successful reads of users, API keys and the
 * audit log, like Google Cloud's DATA_READ audit logs); off by default. Changed by admins, audited.
 */
import { notFound } from "../domain/errors.ts";
import { accountName } from "../domain/resource-names.ts";
import { dataAccessAudited, setDataAccessAudited } from "../store/audit-settings.ts";
import { audited } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";

/** The resource as the API returns it. */
export interface AuditSettingsView {
  name: string;
  dataAccessLogs: boolean;
}

const view = (accountId: string, on: boolean): AuditSettingsView => ({ name: `${accountName(accountId)}/auditSettings`, dataAccessLogs: on });

/** GetAuditSettings: admins (`auditLogs.listAll`). */
export async function getAuditSettings(deps: Deps, ctx: Ctx, accountId: string): Promise<AuditSettingsView> {
  authorize(ctx, "auditLogs.listAll");
  return view(accountId, await dataAccessAudited(deps.store.db, accountId));
}

/**
 * UpdateAuditSettings (AIP-134): sets `dataAccessLogs` when given; audited as an admin action.
 * Switching data-access entries off also needs `auditLogs.listAll`, as deleting an audit sink does:
 * one that may not read the whole log may not make it record less (before reading, unrecorded).
 * @throws PERMISSION_DENIED without `auditSettings.update` (or `auditLogs.listAll` to switch off); NOT_FOUND for an unknown account.
 */
export async function updateAuditSettings(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  patch: { dataAccessLogs?: boolean | undefined },
): Promise<AuditSettingsView> {
  authorize(ctx, "auditSettings.update");
  if (patch.dataAccessLogs === false) authorize(ctx, "auditLogs.listAll", "switch data-access audit entries off, which would leave its reads unrecorded");
  const name = `${accountName(accountId)}/auditSettings`;
  return audited(deps, ctx, { method: "UpdateAuditSettings", resource: name, payload: patch }, async (trx) => {
    if (patch.dataAccessLogs !== undefined && !(await setDataAccessAudited(trx, accountId, patch.dataAccessLogs)))
      throw notFound(`account "${accountId}" not found`);
    return view(accountId, await dataAccessAudited(trx, accountId));
  });
}
