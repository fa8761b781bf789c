/**
 * @module Audit sinks in the store: the rows, and the lease and cursor of their delivery.
 */
import type { AuditSinkRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { nameField } from "./filter-sql.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { collectionName } from "../domain/resource-names.ts";

export async function insertAuditSink(db: Db, row: AuditSinkRow): Promise<void> {
  await db.insertInto("audit_sinks").values(row).execute();
}

export function getAuditSink(db: Db, accountId: string, id: string): Promise<AuditSinkRow | undefined> {
  return db.selectFrom("audit_sinks").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

const sinksTable = (accountId: string): ListTable => ({
  fields: {
    name: nameField(collectionName(accountId, "auditSinks")),
    type: { column: "type", type: "enum", values: ["WEBHOOK", "SPLUNK_HEC"] },
    create_time: { column: "create_time", type: "timestamp" },
    update_time: { column: "update_time", type: "timestamp" },
  },
  order: { name: "id", create_time: "create_time", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
});

/** One page (AIP-158) of the account's sinks matching `req.filter` (AIP-160: name, type, create_time, update_time). */
export function listAuditSinkPage(db: Db, accountId: string, req: ListRequest): Promise<ListResult<AuditSinkRow>> {
  return listPage<AuditSinkRow>(db.selectFrom("audit_sinks").where("account_id", "=", accountId), sinksTable(accountId), req);
}

/** The ids of the account's sinks that stream through webhook `webhookId` (type WEBHOOK). */
export async function sinksThroughWebhook(db: Db, accountId: string, webhookId: string): Promise<string[]> {
  const rows = await db.selectFrom("audit_sinks").select("id").where("account_id", "=", accountId).where("webhook_id", "=", webhookId).orderBy("id").execute();
  return rows.map((r) => r.id);
}

/** Deletes a sink; false when there was none. */
export async function deleteAuditSink(db: Db, accountId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom("audit_sinks").where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Takes the lease of up to `limit` sinks due at `now` whose lease is free or lapsed, for `leaseMs`:
 * while a process holds it, no other sends that sink's batches (so each sink's entries go out in
 * order). Returns the sinks taken.
 */
export async function leaseDueSinks(db: Db, owner: string, now: number, leaseMs: number, limit: number): Promise<AuditSinkRow[]> {
  const due = await db
    .selectFrom("audit_sinks")
    .selectAll()
    .where("next_attempt_time", "<=", now)
    .where("lease_expire_time", "<", now)
    .orderBy("next_attempt_time")
    .limit(limit)
    .execute();
  const taken: AuditSinkRow[] = [];
  for (const sink of due) {
    const r = await db
      .updateTable("audit_sinks")
      .set({ lease_owner: owner, lease_expire_time: now + leaseMs })
      .where("account_id", "=", sink.account_id)
      .where("id", "=", sink.id)
      .where("lease_expire_time", "<", now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) taken.push({ ...sink, lease_owner: owner, lease_expire_time: now + leaseMs });
  }
  return taken;
}

/**
 * Records the outcome of a batch by the lease holder: the cursor moved to `deliveredSeq` (success),
 * or the error and when to try again; `release` gives the lease back. False when the lease was lost.
 */
export async function recordSinkOutcome(
  db: Db,
  sink: AuditSinkRow,
  outcome: { deliveredSeq: number; attemptCount: number; nextAttemptTime: number; lastError: string; now: number; release: boolean },
): Promise<boolean> {
  const r = await db
    .updateTable("audit_sinks")
    .set({
      delivered_seq: outcome.deliveredSeq,
      attempt_count: outcome.attemptCount,
      next_attempt_time: outcome.nextAttemptTime,
      last_error: outcome.lastError,
      update_time: outcome.now,
      ...(outcome.release ? { lease_expire_time: 0, lease_owner: "" } : {}),
    })
    .where("account_id", "=", sink.account_id)
    .where("id", "=", sink.id)
    .where("lease_owner", "=", sink.lease_owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
