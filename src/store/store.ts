import { existsSync } from "node:fs";
import { privateDataDir, privateFile } from "./private-files.ts";
import { join } from "node:path";
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from "kysely";
import pg from "pg";
import { NodeSqliteDatabase } from "./sqlite-database.ts";
import { SqliteCheckpointer } from "./sqlite-checkpointer.ts";
import { migrate } from "./migrations.ts";
import type { Dialect, Schema } from "./schema.ts";

export type { Dialect } from "./schema.ts";
/** A database handle or an open transaction: every repository function takes either. */
export type Db = Kysely<Schema> | Transaction<Schema>;

/** The one store interface: a typed query builder over the dialect in use. */
export interface Store {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file (`:memory:` for tests); default `<dataDir>/hearth.db`. */
  sqlitePath?: string | undefined;
  dataDir?: string | undefined;
  /** Run migrations on open (default true). */
  migrate?: boolean | undefined;
  /** SQLite file store: checkpoint its write-ahead log on a worker thread (`SqliteCheckpointer`), for a serving process. */
  checkpointInBackground?: boolean | undefined;
}

const INT8_OID = 20;

/**
 * PostgreSQL ending a connection (a restart, a failover, pg_terminate_backend) is an 'error' event:
 * on the pool for an idle connection, on the client itself for one in use. Unhandled, either would
 * end the process. The query in flight fails on its own; the pool discards the broken connection
 * (idle at once, in use when released) and the next query opens another.
 */
export function survivesDroppedConnections(pool: pg.Pool): void {
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
}

export async function openStore(options: StoreOptions): Promise<Store> {
  let db: Kysely<Schema>;
  let dialect: Dialect;
  let checkpointer: SqliteCheckpointer | undefined;
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    dialect = "postgres";
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      // bigint columns hold epoch milliseconds and quota values, all well inside 2^53.
      types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as "text")) },
    });
    survivesDroppedConnections(pool);
    // The data directory still holds the sealing key and the first admin's key.
    if (options.dataDir && existsSync(options.dataDir)) privateDataDir(options.dataDir);
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = "sqlite";
    let path = options.sqlitePath;
    if (!path) {
      const dir = privateDataDir(options.dataDir ?? "./data");
      path = privateFile(join(dir, "hearth.db"));
    } else if (path !== ":memory:") {
      privateFile(path);
    }
    const database = new NodeSqliteDatabase(path);
    db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
    if (options.checkpointInBackground && path !== ":memory:") checkpointer = new SqliteCheckpointer(database, path);
  }
  if (options.migrate !== false) await migrate(db, dialect);
  return {
    db,
    dialect,
    close: async () => {
      await db.destroy();
      await checkpointer?.stop();
    },
  };
}
