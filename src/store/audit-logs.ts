import type { AuditLogRow } from "./schema.ts";
import type { ChainedRow } from "./audit-chain.ts";
import { parseFilter } from "../domain/filter.ts";
import { AUDITED_STATUS_NAMES } from "../domain/errors.ts";
import { compileFilter } from "./filter-sql.ts";
import type { Db } from "./store.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";

/**
 * Deletes up to `limit` of the oldest entries older than `cutoff` (any account) that are outside
 * every chain (written by SQL, not by Hearth); returns how many. Chained entries are deleted as a
 * prefix of their chain (`deleteChainPrefix`).
 */
export async function deleteUnchainedAuditLogsBefore(db: Db, cutoff: number, limit: number): Promise<number> {
  const doomed = db.selectFrom("audit_logs").select("id").where("timestamp", "<", cutoff).where("seq", "=", 0).orderBy("timestamp").limit(limit);
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
    // AIP-160 traversal of the entry's `status.code`, by google.rpc name (`status.code = "PERMISSION_DENIED"`, `"OK"`).
    "status.code": { column: "status_message", type: "status_name", values: AUDITED_STATUS_NAMES },
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
  return listPage<AuditLogRow>(scoped(db, scope), auditTable, { ...req, orderBy: "timestamp desc", scope: scope.givenRange }, (query) =>
    query.where("timestamp", ">=", scope.startTime).where("timestamp", "<", scope.endTime),
  );
}

/**
 * The entries of a scope matching an AIP-160 `filter` (the list's fields), oldest first, in chunks
 * of `chunk` read by keyset (timestamp, id): an export's memory stays constant however many.
 * @throws INVALID_ARGUMENT for a bad filter (before the first chunk).
 */
export function exportAuditLogs(db: Db, scope: AuditScope, filter: string | undefined, chunk = 1000): AsyncGenerator<ChainedRow[]> {
  const expr = parseFilter(filter);
  let base = scoped(db, scope).where("timestamp", ">=", scope.startTime).where("timestamp", "<", scope.endTime);
  if (expr) base = base.where(compileFilter(expr, auditTable.fields));
  return (async function* () {
    let cursor: { timestamp: number; id: string } | undefined;
    for (;;) {
      const c = cursor;
      const q = c ? base.where((eb) => eb.or([eb("timestamp", ">", c.timestamp), eb.and([eb("timestamp", "=", c.timestamp), eb("id", ">", c.id)])])) : base;
      const rows = await q.selectAll().orderBy("timestamp").orderBy("id").limit(chunk).execute();
      if (rows.length > 0) yield rows;
      if (rows.length < chunk) return;
      const last = rows.at(-1)!;
      cursor = { timestamp: last.timestamp, id: last.id };
    }
  })();
}

/** The scope's entries (account, email, a non-admin's own), before the time range. */
function scoped(db: Db, scope: AuditScope) {
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
  return base;
}
