import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { generateKey, newKeyId } from "../src/domain/api-key-format.ts";
import { serviceAccountEmail } from "../src/domain/ids.ts";
import { createAccount } from "../src/service/accounts.ts";
import { NO_RESTRICTIONS } from "../src/store/api-keys.ts";
import type { ApiKeyRow, UserRow } from "../src/store/schema.ts";
import { openStore, type Store } from "../src/store/store.ts";
import type { Scratch } from "./databases.ts";

export const ACCOUNT_ID = "my-account";
const KEY_PREFIX = "hk_";
const SA_DOMAIN = "sa.hearth.local";
/** Rows per INSERT: 10 columns × 1,000 stays under both SQLite's and PostgreSQL's bind limits. */
const BATCH = 1_000;
/** INSERTs per transaction. */
const BATCHES_PER_TRANSACTION = 20;

/** Opens (and migrates) the scratch store, creates the account with its admin, returns the admin key. */
export async function openSeededStore(s: Scratch): Promise<{ store: Store; adminKey: string }> {
  const store = await openStore({ databaseUrl: s.databaseUrl, dataDir: s.dataDir });
  const created = await createAccount(store, { keyPrefix: KEY_PREFIX, saDomain: "sa.hearth.local" }, ACCOUNT_ID, "admin@example.com");
  return { store, adminKey: created.apiKey };
}

export interface SeedOptions {
  users: number;
  /** Every n-th user is a service account (2: half of them). */
  serviceAccountEvery: number;
  keysPerUser: number;
  /** How many plaintext keys to return; the rest are kept only as digests. */
  keep: number;
  /** Keep only each user's first key (so the kept keys have distinct owners); default false. */
  keepOnePerUser?: boolean;
  /** Id prefix, so several seedings can share an account. */
  idPrefix?: string;
  onProgress?: (done: number) => void;
}

/**
 * Bulk-inserts users and API keys with real digests of generated keys, through Kysely in
 * transactions of many multi-row INSERTs (the service layer's one-by-one path would take hours
 * at these sizes). Returns the kept plaintext keys.
 */
export async function seedUsers(store: Store, options: SeedOptions): Promise<string[]> {
  const kept: string[] = [];
  const now = Date.now();
  if (store.dialect === "sqlite") {
    // A scratch file being filled, not a server's store: a large page cache keeps the random-order
    // index inserts (digests, key ids) in memory, and no sync is needed until the data is complete.
    await sql`pragma cache_size = -524288`.execute(store.db);
    await sql`pragma synchronous = off`.execute(store.db);
  }
  const prefix = options.idPrefix ?? "u";
  let users: UserRow[] = [];
  let keys: ApiKeyRow[] = [];
  let pending: Array<{ table: "users" | "api_keys"; rows: UserRow[] | ApiKeyRow[] }> = [];
  const queue = (table: "users" | "api_keys", rows: UserRow[] | ApiKeyRow[]) => pending.push({ table, rows });
  const flushTransaction = async () => {
    const work = pending;
    pending = [];
    await store.db.transaction().execute(async (trx) => {
      for (const { table, rows } of work)
        await trx
          .insertInto(table)
          .values(rows as never)
          .execute();
    });
  };
  for (let i = 0; i < options.users; i++) {
    const serviceAccount = i % options.serviceAccountEvery === 0;
    const id = `${prefix}-${String(i).padStart(7, "0")}`;
    users.push({
      account_id: ACCOUNT_ID,
      id,
      uid: randomUUID(),
      display_name: serviceAccount ? `service account ${i}` : `user ${i}`,
      email: serviceAccount ? serviceAccountEmail(id, ACCOUNT_ID, SA_DOMAIN) : `${id}@example.com`,
      role: serviceAccount ? "user" : "contributor",
      permission_preset: "",
      service_account: serviceAccount ? 1 : 0,
      state: "READY",
      create_time: now + i,
      update_time: now + i,
    });
    for (let k = 0; k < options.keysPerUser; k++) {
      const material = generateKey(KEY_PREFIX);
      if (kept.length < options.keep && (k === 0 || !options.keepOnePerUser)) kept.push(material.key);
      keys.push({
        id: newKeyId(),
        account_id: ACCOUNT_ID,
        user_id: id,
        display_name: "bench",
        digest: material.digest,
        prefix: material.displayPrefix,
        create_time: now + i,
        expire_time: null,
        last_used: null,
        annotations: "{}",
        state: "ENABLED",
        disable_reason: "",
        last_used_ip: "",
        last_used_user_agent: "",
        successor_key_id: "",
        limits_key_id: "",
        parent_key_id: "",
        ...NO_RESTRICTIONS,
      });
      if (keys.length >= BATCH) {
        // Owners first: the key rows reference them.
        if (users.length) queue("users", users);
        queue("api_keys", keys);
        users = [];
        keys = [];
      }
    }
    if (users.length >= BATCH) {
      queue("users", users);
      if (keys.length) queue("api_keys", keys);
      users = [];
      keys = [];
    }
    if (pending.length >= BATCHES_PER_TRANSACTION) {
      await flushTransaction();
      options.onProgress?.(i + 1);
    }
  }
  if (users.length) queue("users", users);
  if (keys.length) queue("api_keys", keys);
  if (pending.length) await flushTransaction();
  // Fresh statistics, as a long-running database would have (PostgreSQL's autovacuum/analyze).
  if (store.dialect === "postgres") await sql`vacuum analyze users`.execute(store.db);
  else {
    await sql`analyze`.execute(store.db);
    await sql`pragma synchronous = normal`.execute(store.db);
    await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
  }
  if (store.dialect === "postgres" && options.keysPerUser > 0) await sql`vacuum analyze api_keys`.execute(store.db);
  return kept;
}
