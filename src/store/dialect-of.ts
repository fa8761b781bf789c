import { SqliteAdapter, type Kysely, type Transaction } from "kysely";
import type { Dialect, Schema } from "./schema.ts";

/**
 * The dialect `db` speaks (a store's handle or one of its transactions), for store functions that
 * are handed only a transaction; those handed the store read `store.dialect`.
 */
export function dialectOf(db: Kysely<Schema> | Transaction<Schema>): Dialect {
  return db.getExecutor().adapter instanceof SqliteAdapter ? "sqlite" : "postgres";
}
