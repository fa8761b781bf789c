import { can } from "../domain/actions.ts";
import { invalidArgument } from "../domain/errors.ts";
import { listAuditLogs as listRows } from "../store/audit-logs.ts";
import type { ListRequest } from "../store/list.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";
import { auditLogView } from "./views.ts";

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

export interface AuditQuery {
  startTime?: number | undefined;
  endTime?: number | undefined;
  email?: string | undefined;
}

/**
 * Holders of `auditLogs.listAll` (admins) see every entry of the account; others (`auditLogs.list`)
 * only entries naming them, never admin actions.
 */
export async function listAuditLogs(deps: Deps, ctx: Ctx, accountId: string, query: AuditQuery, req: ListRequest) {
  const all = can(ctx.principal.role, "auditLogs.listAll");
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
      onlyPrincipal: all ? undefined : ctx.principal.email,
      givenRange: JSON.stringify([query.startTime ?? null, query.endTime ?? null]),
    },
    req,
  );
  return { auditLogs: page.rows.map(auditLogView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
}
