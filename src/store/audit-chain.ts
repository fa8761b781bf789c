/**
 * @module The audit log's hash chain in the store: appending an entry (the one audit writer's
 * insert), checkpoints, the walk in chain order and the signing keys' rows (docs/audit-log.md).
 */
import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import { foldCase } from "../domain/case-folding.ts";
import { API_KEY_AUTHENTICATION, entryHash, GENESIS_HASH, type ChainedEntry, type ChainLink } from "../domain/audit-chain.ts";
import { formatTimestamp } from "../domain/time.ts";
import { dialectOf } from "./dialect-of.ts";
import type { AuditCheckpointRow, AuditLogRow, AuditSigningKeyRow, Dialect, Schema } from "./schema.ts";

// The store's `Db` (store.ts), spelled out here: migrations import this module, and store.ts imports them.
type Db = Kysely<Schema> | Transaction<Schema>;

/** A checkpoint every this many entries of an account… */
export const CHECKPOINT_EVERY = 1000;
/** …or at the first entry (or the signer's sweep) this long after the last one: 10 minutes. */
const CHECKPOINT_INTERVAL_MS = 10 * 60 * 1000;

/** An entry as the writer hands it over: the row and the hashed fields added with the chain. */
export type NewAuditEntry = AuditLogRow & { principal_type: string; authentication: string; request_id: string };

/** A stored entry with its place in the chain. */
export type ChainedRow = Selectable<Schema["audit_logs"]>;

/** The hashed field set of a stored entry (domain/audit-chain.ts). */
export function chainedEntry(row: NewAuditEntry): ChainedEntry {
  return {
    id: row.id,
    timestamp: formatTimestamp(row.timestamp),
    principal: row.principal,
    principalUid: row.principal_uid,
    principalType: row.principal_type,
    authentication: row.authentication,
    method: row.method,
    resource: row.resource,
    status: { code: row.status_code, message: row.status_message },
    isAdminAction: row.is_admin_action === 1,
    payload: JSON.parse(row.payload) as unknown,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
  };
}

/**
 * The first stored column of `row` that repeats a hashed field and no longer matches it, or
 * undefined. These columns are written with the entry from its hashed fields: `message` (the API's
 * `message`, the method), `api_key_id` (the API's `apiKeyId`, the key of `authentication`) and the
 * folded text the filters search (`message_folded`, `status_message_folded`). The hash does not
 * cover them, so a difference is an edit that the hash alone would not show.
 */
export function editedRepeat(row: ChainedRow): string | undefined {
  const keyId = row.authentication.startsWith(API_KEY_AUTHENTICATION) ? row.authentication.slice(API_KEY_AUTHENTICATION.length) : "";
  if (row.message !== row.method) return "message";
  if (row.api_key_id !== keyId) return "api_key_id";
  if (row.message_folded !== foldCase(row.message)) return "message_folded";
  if (row.status_message_folded !== foldCase(row.status_message)) return "status_message_folded";
  return undefined;
}

export const linkOf = (row: ChainedRow): ChainLink => ({ seq: row.seq, prevHash: row.prev_hash, hash: row.hash, entry: chainedEntry(row) });

/**
 * Appends an entry to its account's chain, in `db`'s transaction (or a new one): locks the chain
 * head row (PostgreSQL: the UPDATE's row lock, held to commit, so concurrent writers on any
 * process append one at a time; SQLite transactions are serial), writes the entry with
 * `hash = SHA-256(prevHash ‖ JCS(entry))`, and records a checkpoint (signed later by a server
 * process) every CHECKPOINT_EVERY entries or CHECKPOINT_INTERVAL_MS.
 */
export async function appendAuditLog(db: Db, row: NewAuditEntry): Promise<void> {
  if (db.isTransaction) return append(db as Transaction<Schema>, row);
  return db.transaction().execute((trx) => append(trx, row));
}

/** The head of each account's chain as this process last wrote it: a guess, checked by the write (see `append`). */
interface HeadGuess {
  seq: number;
  hash: string;
  checkpoint_seq: number;
  checkpoint_time: number;
}
const guesses = new Map<string, HeadGuess>();

/** What the SQLite trigger `audit_chain_append` says when an entry does not continue its chain's head. */
const HEAD_MOVED = "audit chain head moved";

/**
 * SQLite keeps the chain head with two triggers (installed by migration 20): one refuses an entry
 * that does not continue the head (position and previous hash), one moves the head to it. The
 * writer then sends one INSERT per entry, as before the chain; SQLite runs one write transaction at
 * a time, and an entry written by another process since this one's guess is refused and retried.
 */
async function installSqliteChainTriggers(db: Kysely<Schema>): Promise<void> {
  await sql`create trigger audit_chain_append before insert on audit_logs when new.seq > 0 begin
    select raise(abort, 'audit chain head moved')
    where not exists (select 1 from audit_chain_heads h where h.account_id = new.account_id and h.seq = new.seq - 1 and h.hash = new.prev_hash);
  end`.execute(db);
  await sql`create trigger audit_chain_advance after insert on audit_logs when new.seq > 0 begin
    update audit_chain_heads set seq = new.seq, hash = new.hash where account_id = new.account_id;
  end`.execute(db);
}

async function appendSqlite(trx: Transaction<Schema>, row: NewAuditEntry, entry: ChainedEntry): Promise<void> {
  let head = guesses.get(row.account_id);
  for (let attempt = 0; ; attempt++) {
    if (!head) {
      await trx
        .insertInto("audit_chain_heads")
        .values({ account_id: row.account_id, seq: 0, hash: GENESIS_HASH, checkpoint_seq: 0, checkpoint_time: row.timestamp })
        .onConflict((oc) => oc.column("account_id").doNothing())
        .execute();
      head = await trx
        .selectFrom("audit_chain_heads")
        .select(["seq", "hash", "checkpoint_seq", "checkpoint_time"])
        .where("account_id", "=", row.account_id)
        .executeTakeFirstOrThrow();
    }
    const seq = head.seq + 1;
    const hash = entryHash(head.hash, entry);
    const due = seq - head.checkpoint_seq >= CHECKPOINT_EVERY || row.timestamp - head.checkpoint_time >= CHECKPOINT_INTERVAL_MS;
    try {
      await insertChained(trx, row, seq, head.hash, hash, due);
    } catch (error) {
      // Another process appended since the guess: read the head and try once more.
      if (attempt > 0 || !String((error as Error).message).includes(HEAD_MOVED)) throw error;
      head = undefined;
      continue;
    }
    if (due)
      await trx
        .updateTable("audit_chain_heads")
        .set({ checkpoint_seq: seq, checkpoint_time: row.timestamp })
        .where("account_id", "=", row.account_id)
        .execute();
    guesses.set(row.account_id, { seq, hash, checkpoint_seq: due ? seq : head.checkpoint_seq, checkpoint_time: due ? row.timestamp : head.checkpoint_time });
    return;
  }
}

async function append(trx: Transaction<Schema>, row: NewAuditEntry): Promise<void> {
  const entry = chainedEntry(row);
  if (dialectOf(trx) === "sqlite") return appendSqlite(trx, row, entry);
  const guess = guesses.get(row.account_id);
  // Usually this process wrote the account's last entry: the head moves from its guess in one
  // conditional UPDATE (which takes the row lock); when another process or a rolled-back
  // transaction moved it, nothing is updated and the head is read under its lock instead.
  if (guess) {
    const seq = guess.seq + 1;
    const hash = entryHash(guess.hash, entry);
    const due = seq - guess.checkpoint_seq >= CHECKPOINT_EVERY || row.timestamp - guess.checkpoint_time >= CHECKPOINT_INTERVAL_MS;
    // Plain SQL on this path, written once per audited change: no query builder to run each time.
    const moved = due
      ? await sql`update audit_chain_heads set seq = ${seq}, hash = ${hash}, checkpoint_seq = ${seq}, checkpoint_time = ${row.timestamp}
          where account_id = ${row.account_id} and seq = ${guess.seq} and hash = ${guess.hash}`.execute(trx)
      : await sql`update audit_chain_heads set seq = ${seq}, hash = ${hash} where account_id = ${row.account_id} and seq = ${guess.seq} and hash = ${guess.hash}`.execute(
          trx,
        );
    if (Number(moved.numAffectedRows) === 1) {
      guesses.set(row.account_id, {
        seq,
        hash,
        checkpoint_seq: due ? seq : guess.checkpoint_seq,
        checkpoint_time: due ? row.timestamp : guess.checkpoint_time,
      });
      await insertChained(trx, row, seq, guess.hash, hash, due);
      return;
    }
  }
  const head = await lockHead(trx, row.account_id, row.timestamp);
  const hash = entryHash(head.hash, entry);
  const due = head.seq - head.checkpoint_seq >= CHECKPOINT_EVERY || row.timestamp - head.checkpoint_time >= CHECKPOINT_INTERVAL_MS;
  await trx
    .updateTable("audit_chain_heads")
    .set(due ? { hash, checkpoint_seq: head.seq, checkpoint_time: row.timestamp } : { hash })
    .where("account_id", "=", row.account_id)
    .execute();
  guesses.set(row.account_id, {
    seq: head.seq,
    hash,
    checkpoint_seq: due ? head.seq : head.checkpoint_seq,
    checkpoint_time: due ? row.timestamp : head.checkpoint_time,
  });
  await insertChained(trx, row, head.seq, head.hash, hash, due);
}

async function insertChained(trx: Transaction<Schema>, row: NewAuditEntry, seq: number, prevHash: string, hash: string, checkpoint: boolean): Promise<void> {
  await sql`insert into audit_logs (id, account_id, timestamp, principal, principal_uid, principal_type, authentication, method, resource,
      message, message_folded, status_code, status_message, status_message_folded, payload, is_admin_action, user_agent, client_ip, api_key_id,
      request_id, seq, prev_hash, hash)
    values (${row.id}, ${row.account_id}, ${row.timestamp}, ${row.principal}, ${row.principal_uid}, ${row.principal_type}, ${row.authentication},
      ${row.method}, ${row.resource}, ${row.message}, ${foldCase(row.message)}, ${row.status_code}, ${row.status_message}, ${foldCase(row.status_message)},
      ${row.payload}, ${row.is_admin_action}, ${row.user_agent}, ${row.client_ip}, ${row.api_key_id}, ${row.request_id}, ${seq}, ${prevHash}, ${hash})`.execute(
    trx,
  );
  if (checkpoint) await insertCheckpoint(trx, { account_id: row.account_id, seq, last_id: row.id, last_hash: hash, time: row.timestamp });
}

/** Takes the next position of the account's chain (creating its head on the first entry): the new seq and the hash before it. */
async function lockHead(trx: Transaction<Schema>, accountId: string, now: number) {
  const take = () =>
    trx
      .updateTable("audit_chain_heads")
      .set((eb) => ({ seq: eb("seq", "+", 1) }))
      .where("account_id", "=", accountId)
      .returning(["seq", "hash", "checkpoint_seq", "checkpoint_time"])
      .executeTakeFirst();
  const head = await take();
  if (head) return head;
  await trx
    .insertInto("audit_chain_heads")
    .values({ account_id: accountId, seq: 0, hash: GENESIS_HASH, checkpoint_seq: 0, checkpoint_time: now })
    .onConflict((oc) => oc.column("account_id").doNothing())
    .execute();
  return (await take())!;
}

async function insertCheckpoint(db: Db, c: Omit<AuditCheckpointRow, "key_id" | "signature">): Promise<void> {
  await db
    .insertInto("audit_checkpoints")
    .values({ ...c, key_id: "", signature: "" })
    .onConflict((oc) => oc.columns(["account_id", "seq"]).doNothing())
    .execute();
}

/** The account's chain head: its length and last hash (0 and the genesis hash before any entry). */
export async function chainHead(db: Db, accountId: string): Promise<{ seq: number; hash: string }> {
  const head = await db.selectFrom("audit_chain_heads").select(["seq", "hash"]).where("account_id", "=", accountId).executeTakeFirst();
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

/**
 * Records a checkpoint at the head of every chain that grew since its last checkpoint and whose
 * last checkpoint is older than CHECKPOINT_INTERVAL_MS (an account that stopped writing still gets
 * its last entries covered). Returns how many were recorded.
 */
export async function checkpointIdleChains(db: Kysely<Schema>, now: number): Promise<number> {
  const idle = await db
    .selectFrom("audit_chain_heads")
    .select("account_id")
    .whereRef("seq", ">", "checkpoint_seq")
    .where("checkpoint_time", "<=", now - CHECKPOINT_INTERVAL_MS)
    .limit(1000)
    .execute();
  for (const { account_id } of idle) {
    await db.transaction().execute(async (trx) => {
      // The head's row lock (a no-op update) keeps writers out while the checkpoint is taken.
      const head = await trx
        .updateTable("audit_chain_heads")
        .set((eb) => ({ seq: eb.ref("seq") }))
        .where("account_id", "=", account_id)
        .returning(["seq", "hash", "checkpoint_seq"])
        .executeTakeFirst();
      if (!head || head.seq === head.checkpoint_seq) return;
      const last = await trx.selectFrom("audit_logs").select("id").where("account_id", "=", account_id).where("seq", "=", head.seq).executeTakeFirst();
      if (!last) return;
      await trx.updateTable("audit_chain_heads").set({ checkpoint_seq: head.seq, checkpoint_time: now }).where("account_id", "=", account_id).execute();
      await insertCheckpoint(trx, { account_id, seq: head.seq, last_id: last.id, last_hash: head.hash, time: now });
    });
  }
  return idle.length;
}

/** Checkpoints not yet signed (any account), oldest first. */
export function unsignedCheckpoints(db: Db, limit: number): Promise<AuditCheckpointRow[]> {
  return db.selectFrom("audit_checkpoints").selectAll().where("signature", "=", "").orderBy("time").limit(limit).execute();
}

/** Stores a checkpoint's signature, unless another process signed it first. */
export async function setCheckpointSignature(db: Db, c: AuditCheckpointRow, keyId: string, signature: string): Promise<void> {
  await db
    .updateTable("audit_checkpoints")
    .set({ key_id: keyId, signature })
    .where("account_id", "=", c.account_id)
    .where("seq", "=", c.seq)
    .where("signature", "=", "")
    .execute();
}

/** The last checkpoint before position `seq` of the account's chain, if any. */
export function checkpointBefore(db: Db, accountId: string, seq: number): Promise<AuditCheckpointRow | undefined> {
  return db
    .selectFrom("audit_checkpoints")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("seq", "<", seq)
    .where("signature", "!=", "")
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
}

/** The account's checkpoints at positions in [from, to], in order. */
export function checkpointsBetween(db: Db, accountId: string, from: number, to: number): Promise<AuditCheckpointRow[]> {
  return db
    .selectFrom("audit_checkpoints")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("seq", ">=", from)
    .where("seq", "<=", to)
    .orderBy("seq")
    .execute();
}

/** The range of positions held by the account's entries with `startTime <= timestamp < endTime` (ms); undefined when none. */
export async function seqRange(db: Db, accountId: string, startTime?: number, endTime?: number): Promise<{ first: number; last: number } | undefined> {
  let q = db
    .selectFrom("audit_logs")
    .select((eb) => [eb.fn.min("seq").as("first"), eb.fn.max("seq").as("last")])
    .where("account_id", "=", accountId)
    .where("seq", ">", 0);
  if (startTime !== undefined) q = q.where("timestamp", ">=", startTime);
  if (endTime !== undefined) q = q.where("timestamp", "<", endTime);
  const r = await q.executeTakeFirst();
  if (r?.first === null || r?.first === undefined) return undefined;
  return { first: Number(r.first), last: Number(r.last) };
}

/** Entries written outside the chain (position 0: inserted by SQL, not by Hearth), one of them. */
export function unchainedEntry(db: Db, accountId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom("audit_logs").select("id").where("account_id", "=", accountId).where("seq", "=", 0).limit(1).executeTakeFirst();
}

/** The id of the account's entry with this hash, if any. */
export async function entryWithHash(db: Db, accountId: string, hash: string): Promise<string | undefined> {
  const row = await db.selectFrom("audit_logs").select("id").where("account_id", "=", accountId).where("hash", "=", hash).limit(1).executeTakeFirst();
  return row?.id;
}

/**
 * The account's chained entries at positions in (after, upTo], in chain order, read in chunks of
 * `chunk` by keyset (seq, id): memory stays constant however long the chain.
 */
export async function* chainRows(db: Db, accountId: string, after: number, upTo: number, chunk = 1000): AsyncGenerator<ChainedRow[]> {
  let cursor: { seq: number; id: string } = { seq: after, id: "\uffff" };
  for (;;) {
    const rows = await db
      .selectFrom("audit_logs")
      .selectAll()
      .where("account_id", "=", accountId)
      .where((eb) => eb.or([eb("seq", ">", cursor.seq), eb.and([eb("seq", "=", cursor.seq), eb("id", ">", cursor.id)])]))
      .where("seq", "<=", upTo)
      .orderBy("seq")
      .orderBy("id")
      .limit(chunk)
      .execute();
    if (rows.length > 0) yield rows;
    if (rows.length < chunk) return;
    const last = rows.at(-1)!;
    cursor = { seq: last.seq, id: last.id };
  }
}

/**
 * Fills the chain of entries stored before it (migration 20): per account, in (timestamp, id)
 * order, positions from 1, hashes, a checkpoint every CHECKPOINT_EVERY entries and at the end
 * (signed by the first server process to start), and the chain head; on SQLite, the head's triggers.
 */
export async function fillAuditChain(db: Kysely<Schema>, dialect: Dialect): Promise<void> {
  const accounts = await db.selectFrom("audit_logs").select("account_id").distinct().execute();
  const now = Date.now();
  for (const { account_id } of accounts) {
    let seq = 0;
    let hash = GENESIS_HASH;
    let lastId = "";
    let cursor: { timestamp: number; id: string } | undefined;
    for (;;) {
      let q = db.selectFrom("audit_logs").selectAll().where("account_id", "=", account_id);
      if (cursor) {
        const c = cursor;
        q = q.where((eb) => eb.or([eb("timestamp", ">", c.timestamp), eb.and([eb("timestamp", "=", c.timestamp), eb("id", ">", c.id)])]));
      }
      const rows = await q.orderBy("timestamp").orderBy("id").limit(1000).execute();
      for (const row of rows) {
        seq++;
        const next = entryHash(hash, chainedEntry(row));
        await db.updateTable("audit_logs").set({ seq, prev_hash: hash, hash: next }).where("id", "=", row.id).execute();
        hash = next;
        lastId = row.id;
        if (seq % CHECKPOINT_EVERY === 0) await insertCheckpoint(db, { account_id, seq, last_id: lastId, last_hash: hash, time: now });
      }
      if (rows.length < 1000) break;
      const last = rows.at(-1)!;
      cursor = { timestamp: last.timestamp, id: last.id };
    }
    if (seq % CHECKPOINT_EVERY !== 0) await insertCheckpoint(db, { account_id, seq, last_id: lastId, last_hash: hash, time: now });
    await db.insertInto("audit_chain_heads").values({ account_id, seq, hash, checkpoint_seq: seq, checkpoint_time: now }).execute();
  }
  if (dialect === "sqlite") await installSqliteChainTriggers(db);
}

/**
 * Deletes the oldest entries of one account older than `cutoff` (ms), at most `limit`, as a prefix
 * of its chain (up to the first entry at or after the cutoff), recording first an unsigned
 * checkpoint at the last deleted entry, so what remains still verifies. Returns how many.
 */
export async function deleteChainPrefix(db: Kysely<Schema>, accountId: string, cutoff: number, limit: number, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const range = await seqRange(trx, accountId);
    if (!range) return 0;
    const kept = await seqRange(trx, accountId, cutoff);
    const last = Math.min(range.first + limit - 1, kept ? kept.first - 1 : range.last);
    if (last < range.first) return 0;
    const boundary = await trx.selectFrom("audit_logs").select(["id", "hash"]).where("account_id", "=", accountId).where("seq", "=", last).executeTakeFirst();
    if (!boundary) return 0;
    await insertCheckpoint(trx, { account_id: accountId, seq: last, last_id: boundary.id, last_hash: boundary.hash, time: now });
    const result = await trx.deleteFrom("audit_logs").where("account_id", "=", accountId).where("seq", ">", 0).where("seq", "<=", last).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

/** The accounts holding chained entries older than `cutoff` (ms), up to `limit`. */
export async function accountsWithEntriesBefore(db: Db, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("audit_logs").select("account_id").distinct().where("timestamp", "<", cutoff).where("seq", ">", 0).limit(limit).execute();
  return rows.map((r) => r.account_id);
}

/** The signing key new checkpoints are signed with (the newest not retired), if any. */
export function activeSigningKey(db: Db): Promise<AuditSigningKeyRow | undefined> {
  return db
    .selectFrom("audit_signing_keys")
    .selectAll()
    .where("retire_time", "is", null)
    .orderBy("create_time", "desc")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
}

/** Every signing key ever used (their public keys stay published), oldest first. */
export function allSigningKeys(db: Db): Promise<AuditSigningKeyRow[]> {
  return db.selectFrom("audit_signing_keys").selectAll().orderBy("create_time").orderBy("id").execute();
}

/** Adds a signing key and retires every other (a rotation: their public keys stay published). */
export async function insertSigningKey(db: Kysely<Schema>, row: AuditSigningKeyRow, retireOthers: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (retireOthers) await trx.updateTable("audit_signing_keys").set({ retire_time: row.create_time }).where("retire_time", "is", null).execute();
    await trx.insertInto("audit_signing_keys").values(row).execute();
  });
}
