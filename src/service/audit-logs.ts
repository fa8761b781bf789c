import { invalidArgument } from "../domain/errors.ts";
import { listAuditLogs as listRows } from "../store/audit-logs.ts";
import { getUser } from "../store/users.ts";
import type { ListRequest } from "../store/list.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize, holds } from "./permissions.ts";
import { auditLogView } from "./views.ts";

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

export interface AuditQuery {
  startTime?: number | undefined;
  endTime?: number | undefined;
  email?: string | undefined;
}

/**
 * What a non-admin's own entries are matched by: its email, uid and create time. A principal
 * deleted while the request runs has no create time: it sees only entries carrying its uid.
 */
export async function ownEntries(deps: Deps, ctx: Ctx): Promise<{ email: string; uid: string; createTime: number }> {
  const { accountId, userId, uid, email } = ctx.principal;
  const row = await getUser(deps.store.db, accountId, userId);
  return { email, uid, createTime: row?.uid === uid ? row.create_time : Number.MAX_SAFE_INTEGER };
}

/**
 * Holders of `auditLogs.listAll` (admins) see every entry of the account; others (`auditLogs.list`)
 * only their own, never admin actions: those with their uid, and those with their email and no uid
 * (failed sign-ins, entries from before uids) written since they were created. As in Google Cloud,
 * a principal re-created under a deleted one's email does not inherit what was the namesake's.
 */
export async function listAuditLogs(deps: Deps, ctx: Ctx, accountId: string, query: AuditQuery, req: ListRequest) {
  const all = holds(ctx.principal, "auditLogs.listAll");
  authorize(ctx, all ? "auditLogs.listAll" : "auditLogs.list");
  const endTime = query.endTime ?? Date.now() + 1;
  const startTime = query.startTime ?? endTime - THIRTY_DAYS;
  if (startTime >= endTime) throw invalidArgument("startTime must be before endTime");
  const page = await listRows(
    deps.store.db,
    {
      accountId,
      startTime,
      endTime,
      email: query.email?.toLowerCase(),
      onlyPrincipal: all ? undefined : await ownEntries(deps, ctx),
      givenRange: JSON.stringify([query.startTime ?? null, query.endTime ?? null]),
    },
    req,
  );
  return { auditLogs: page.rows.map(auditLogView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
}
