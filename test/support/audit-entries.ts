import { randomUUID } from "node:crypto";
import { entryHash, GENESIS_HASH } from "../../src/domain/audit-chain.ts";
import { CHECKPOINT_EVERY, chainedEntry, type NewAuditEntry } from "../../src/store/audit-chain.ts";
import type { Store } from "../../src/store/store.ts";
import type { AuditCheckpointRow, Schema } from "../../src/store/schema.ts";
import { sql, type Insertable } from "kysely";

/**
 * Appends `count` entries to an account's audit chain by SQL in batches of 1,000 (far faster than
 * through the API), each hashed as the audit writer would, with an unsigned checkpoint every
 * CHECKPOINT_EVERY entries for the server's signer; the chain head follows. For tests and the
 * bench: the chain it leaves verifies. Entries are 1 ms apart, after the chain's last one.
 */
export async function appendChainedEntries(store: Store, accountId: string, count: number): Promise<void> {
  const db = store.db;
  const head = (await db.selectFrom("audit_chain_heads").selectAll().where("account_id", "=", accountId).executeTakeFirst()) ?? {
    account_id: accountId,
    seq: 0,
    hash: GENESIS_HASH,
    checkpoint_seq: 0,
    checkpoint_time: Date.now(),
  };
  let { seq, hash } = head;
  // After the chain's last entry, so time order follows chain order (possibly a little into the future).
  const latest = await db
    .selectFrom("audit_logs")
    .select((eb) => eb.fn.max("timestamp").as("t"))
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  const start = Math.max(Date.now() - count, Number(latest?.t ?? 0) + 1);
  for (let done = 0; done < count;) {
    const n = Math.min(1000, count - done);
    const rows: Insertable<Schema["audit_logs"]>[] = [];
    const checkpoints: AuditCheckpointRow[] = [];
    for (let i = 0; i < n; i++) {
      const entry: NewAuditEntry = {
        id: randomUUID(),
        account_id: accountId,
        timestamp: start + done + i,
        principal: "bulk@example.com",
        principal_uid: "",
        principal_type: "UNAUTHENTICATED",
        authentication: "",
        method: "BulkEntry",
        resource: `accounts/${accountId}/users/u${(done + i) % 100}`,
        message: "BulkEntry",
        status_code: 0,
        status_message: "",
        payload: JSON.stringify({ n: done + i }),
        is_admin_action: 0,
        user_agent: "bulk",
        client_ip: "127.0.0.1",
        api_key_id: "",
        request_id: "",
      };
      seq++;
      const next = entryHash(hash, chainedEntry(entry));
      rows.push({ ...entry, message_folded: "bulkentry", status_message_folded: "", seq, prev_hash: hash, hash: next });
      hash = next;
      if (seq % CHECKPOINT_EVERY === 0)
        checkpoints.push({ account_id: accountId, seq, last_id: entry.id, last_hash: hash, time: entry.timestamp, key_id: "", signature: "" });
    }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("audit_logs").values(rows).execute();
      if (checkpoints.length > 0) await trx.insertInto("audit_checkpoints").values(checkpoints).execute();
    });
    done += n;
  }
  await db
    .insertInto("audit_chain_heads")
    .values({ ...head, seq, hash, checkpoint_seq: seq - (seq % CHECKPOINT_EVERY) })
    .onConflict((oc) => oc.column("account_id").doUpdateSet({ seq, hash, checkpoint_seq: seq - (seq % CHECKPOINT_EVERY) }))
    .execute();
}

/**
 * Makes every audit write fail (a trigger on `audit_logs` that raises), as a full disk or a revoked
 * grant would, until the returned function is called: for tests of what a change does when its
 * entry cannot be written.
 */
export async function blockAuditWrites(store: Store): Promise<() => Promise<void>> {
  const db = store.db;
  if (store.dialect === "sqlite") {
    await sql`CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit log is read-only'); END`.execute(db);
    return async () => void (await sql`DROP TRIGGER audit_read_only`.execute(db));
  }
  await sql`CREATE FUNCTION audit_read_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit log is read-only'; END $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_read_only()`.execute(db);
  return async () => {
    await sql`DROP TRIGGER audit_read_only ON audit_logs`.execute(db);
    await sql`DROP FUNCTION audit_read_only()`.execute(db);
  };
}
