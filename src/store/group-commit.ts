/**
 * @module Group commit: on SQLite, changes that arrive together share one store transaction, each
 * in its own savepoint, so a burst of N changes pays one COMMIT (one WAL append of the pages they
 * share) instead of N.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Schema } from "./schema.ts";
import type { Store } from "./store.ts";

/** At most this many changes in one transaction, so a long burst does not hold the connection (and every reader) for long. */
const MAX_BATCH = 32;

interface Change {
  work: (trx: Transaction<Schema>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  done?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** Counts since the store was opened, for tests and the benchmark: changes run and transactions committed or rolled back. */
export interface GroupCommitStats {
  changes: number;
  transactions: number;
}

class GroupCommit {
  readonly stats: GroupCommitStats = { changes: 0, transactions: 0 };
  readonly #db: Kysely<Schema>;
  readonly #queue: Change[] = [];
  #running = false;

  constructor(db: Kysely<Schema>) {
    this.#db = db;
  }

  run<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /**
   * Runs batches while changes wait. Before each, one turn of the event loop: on SQLite's single
   * connection the reads a request makes before its change wait while a transaction is open, so
   * the requests that arrived together reach the queue only once they can read; this turn lets
   * them (node:sqlite answers within the turn) and they share the next transaction.
   */
  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        await this.#batch();
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * One transaction: changes run one after another, each between `SAVEPOINT` and `RELEASE`, or
   * rolled back to its savepoint when it throws (its error is its own; the others go on). Changes
   * queued while the batch runs join it. Each caller learns its outcome only after the COMMIT; a
   * failed COMMIT fails every change of the batch (none of them was stored).
   */
  async #batch(): Promise<void> {
    const batch: Change[] = [];
    try {
      await this.#db.transaction().execute(async (trx) => {
        while (this.#queue.length > 0 && batch.length < MAX_BATCH) {
          const change = this.#queue.shift()!;
          batch.push(change);
          await sql`savepoint group_change`.execute(trx);
          try {
            change.done = { ok: true, value: await change.work(trx) };
          } catch (error) {
            change.done = { ok: false, error };
            await sql`rollback to savepoint group_change`.execute(trx);
          }
          await sql`release savepoint group_change`.execute(trx);
        }
      });
      this.stats.transactions++;
      this.stats.changes += batch.length;
      for (const c of batch) {
        if (c.done?.ok) c.resolve(c.done.value);
        else c.reject(c.done?.error);
      }
    } catch (error) {
      // The transaction itself failed (COMMIT, or a savepoint statement): nothing of the batch was stored.
      for (const c of batch) c.reject(c.done && !c.done.ok ? c.done.error : error);
    }
  }
}

const groups = new WeakMap<Kysely<Schema>, GroupCommit>();

function groupOf(store: Store): GroupCommit {
  let group = groups.get(store.db);
  if (!group) groups.set(store.db, (group = new GroupCommit(store.db)));
  return group;
}

/**
 * Runs `work` in a store transaction and resolves with its result once that transaction has
 * committed; rejects with `work`'s own error (its changes undone) or the transaction's.
 *
 * On SQLite (one connection, transactions one at a time) concurrent callers are grouped: up to
 * MAX_BATCH changes share one transaction, each in a savepoint of its own, so one failing change
 * fails alone and each keeps whatever it wrote in `trx` (its audit entry among them) with it. On
 * PostgreSQL each call is its own transaction (concurrent transactions there commit in parallel).
 * `work` must do all its store access through `trx` and must not wait for another change.
 */
export function inTransaction<T>(store: Store, work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  if (store.dialect !== "sqlite") return store.db.transaction().execute(work);
  return groupOf(store).run(work);
}

/** How many changes and transactions the store's group commit has run (zeros before the first, and on PostgreSQL). */
export function groupCommitStats(store: Store): GroupCommitStats {
  return { ...(groups.get(store.db)?.stats ?? { changes: 0, transactions: 0 }) };
}
