import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** Scratch space of a bench run (gitignored); every item removes what it made. */
export const DATA_ROOT = fileURLToPath(new URL("./.data/", import.meta.url));

/** Where PostgreSQL is reached for item 3; a database is created and dropped there. */
export const PG_ADMIN_URL = process.env.HEARTH_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface Scratch {
  /** HEARTH_DATA_DIR (SQLite file `hearth.db`, `admin-api-key`, the server's log). */
  dataDir: string;
  /** DATABASE_URL when the store is PostgreSQL. */
  databaseUrl: string | undefined;
  /** Environment for `hearth serve` over this store. */
  env: Record<string, string> & { HEARTH_DATA_DIR: string };
  drop(): Promise<void>;
}

/** A fresh, empty store location: a directory for SQLite, or a new PostgreSQL database. */
export async function scratch(name: string, dialect: "sqlite" | "postgres" = "sqlite"): Promise<Scratch> {
  const dataDir = join(DATA_ROOT, `${name}-${randomBytes(4).toString("hex")}`);
  mkdirSync(dataDir, { recursive: true });
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === "sqlite") {
    return { dataDir, databaseUrl: undefined, env: { HEARTH_DATA_DIR: dataDir }, drop: async () => removeDir() };
  }
  const db = `hearth_bench_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create database ${db}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${db}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    env: { HEARTH_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      removeDir();
      await adminQuery(`drop database if exists ${db} with (force)`);
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Undefined when PostgreSQL answers; otherwise why not. */
export async function postgresUnavailable(): Promise<string | undefined> {
  try {
    await adminQuery("select 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL did not answer at ${PG_ADMIN_URL} (${(error as Error).message})`;
  }
}
