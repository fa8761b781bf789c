import type { AuditLogRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";

export async function insertAuditLog(db: Db, row: AuditLogRow): Promise<void> {
  await db
    .insertInto("audit_logs")
    .values(withFolded(row, ["message", "status_message"]))
    .execute();
}

/** Deletes up to `limit` of the oldest entries older than `cutoff` (any account); returns how many. */
export async function deleteAuditLogsBefore(db: Db, cutoff: number, limit: number): Promise<number> {
  const doomed = db.selectFrom("audit_logs").select("id").where("timestamp", "<", cutoff).orderBy("timestamp").limit(limit);
  const result = await db.deleteFrom("audit_logs").where("id", "in", doomed).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const auditTable: ListTable = {
  fields: {
    resource: { column: "resource", type: "string" },
    message: { column: "message", type: "string", folded: true },
    method: { column: "method", type: "string" },
    email: { column: "principal", type: "string", normalize: (v) => v.toLowerCase() },
    principal: { column: "principal", type: "string", normalize: (v) => v.toLowerCase() },
    timestamp: { column: "timestamp", type: "timestamp" },
    is_admin_action: { column: "is_admin_action", type: "boolean" },
    api_key_id: { column: "api_key_id", type: "string" },
    status: { column: "status_message", type: "string", folded: true },
  },
  order: { timestamp: "timestamp" },
  defaultOrderBy: "timestamp desc",
  idColumn: "id",
};

export interface AuditScope {
  accountId: string;
  startTime: number;
  endTime: number;
  email?: string | undefined;
  /**
   * Set for non-admins: only this principal's own entries, never admin actions. Its own are those
   * carrying its uid, and those carrying its email but no uid (failed sign-ins, entries written
   * before uids) from `createTime` (ms since the epoch) on: a principal re-created under a deleted
   * one's email is a new principal and does not see its namesake's entries (AIP-148 uids).
   */
  onlyPrincipal?: { email: string; uid: string; createTime: number } | undefined;
  /** The time range as the caller gave it (defaults move with the clock, so they do not bind a page token). */
  givenRange: string;
}

export function listAuditLogs(db: Db, scope: AuditScope, req: ListRequest): Promise<ListResult<AuditLogRow>> {
  // Account, email and principal are parameters of the query and bind a page token; the time range
  // binds it as the caller gave it (its defaults move with the clock).
  let base = db.selectFrom("audit_logs").where("account_id", "=", scope.accountId);
  if (scope.email !== undefined) base = base.where("principal", "=", scope.email);
  const own = scope.onlyPrincipal;
  if (own !== undefined) {
    // An entry with a uid carries that principal's (immutable) email too, so the principal-scoped
    // index (account_id, principal, timestamp, id) serves this in order; the uid only narrows it.
    base = base
      .where("principal", "=", own.email)
      .where("is_admin_action", "=", 0)
      .where((eb) => eb.or([eb("principal_uid", "=", own.uid), eb.and([eb("principal_uid", "=", ""), eb("timestamp", ">=", own.createTime)])]));
  }
  return listPage<AuditLogRow>(base, auditTable, { ...req, orderBy: "timestamp desc", scope: scope.givenRange }, (query) =>
    query.where("timestamp", ">=", scope.startTime).where("timestamp", "<", scope.endTime),
  );
}
