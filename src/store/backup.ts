import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { backup, DatabaseSync } from "node:sqlite";
import { LATEST_VERSION } from "./migrations.ts";
import { privateFile } from "./private-files.ts";

/**
 * Backup and restore of the embedded SQLite store through SQLite's online backup API: a running
 * server keeps serving while its store is copied page by page, and the copy is one consistent
 * snapshot. PostgreSQL stores are backed up with PostgreSQL's own tools (see POSTGRES_GUIDANCE).
 */

class BackupError extends Error {}

/** Pages per backup step: the whole store in one step, so a busy writer cannot restart it forever. */
const ALL_PAGES = 1 << 30;

/** What an operator runs instead on PostgreSQL; `$DATABASE_URL` stays a variable so no password is printed. */
export const POSTGRES_GUIDANCE = [
  "the store is PostgreSQL: back it up and restore it with PostgreSQL's own tools.",
  "  backup (while Hearth runs; one consistent snapshot):",
  '    pg_dump --format=custom --file=hearth.dump "$DATABASE_URL"',
  "  restore (stop every hearth process first; into the same or an empty database):",
  '    pg_restore --clean --if-exists --no-owner --single-transaction --dbname="$DATABASE_URL" hearth.dump',
  "  then start hearth; it applies any newer migrations.",
].join("\n");

function open(path: string, readOnly = false): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly });
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

/**
 * True when another connection (a running `hearth serve`, `hearth migrate`…) has the store open.
 * In WAL mode every open connection holds a shared lock; an exclusive one is refused at once.
 */
function storeInUse(dbPath: string): boolean {
  if (!existsSync(dbPath)) return false;
  const db = new DatabaseSync(dbPath);
  try {
    db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
    return false;
  } catch (error) {
    if (/locked|busy/i.test((error as Error).message)) return true;
    throw error;
  } finally {
    db.close();
  }
}

/** Checks that `file` is a whole, readable Hearth store this version can run; returns its schema version. */
function checkStoreFile(file: string): number {
  if (file.trim() === "") throw new BackupError("give the backup file to restore, e.g. hearth restore /backups/hearth.db");
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  if (statSync(file).isDirectory()) throw new BackupError(`${file} is a directory, not a backup file`);
  let db: DatabaseSync;
  try {
    db = open(file, true);
  } catch (error) {
    throw new BackupError(`${file} is not a SQLite database: ${(error as Error).message}`);
  }
  try {
    const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== "ok") throw new BackupError(`${file} is damaged: ${check?.quick_check ?? "no answer"}`);
    const table = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'schema_migrations'").get();
    if (!table) throw new BackupError(`${file} is not a Hearth store (it has no schema_migrations table)`);
    const row = db.prepare("select max(version) as v from schema_migrations").get() as { v: number | null };
    const version = Number(row.v ?? 0);
    if (version > LATEST_VERSION) {
      throw new BackupError(`${file} has schema version ${version}, newer than this Hearth's ${LATEST_VERSION}: restore it with that version or newer`);
    }
    return version;
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${file} cannot be read as a Hearth store: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Refuses, before a page is copied, a backup target no file can be written at: no name, a directory,
 * or a place whose directory does not exist (found after the whole copy, by the rename, they were
 * system errors such as `EISDIR: illegal operation on a directory, rename …`).
 */
function checkBackupTarget(file: string): void {
  if (file.trim() === "") throw new BackupError("give the file to write the backup to, e.g. hearth backup /backups/hearth.db");
  if (existsSync(file) && statSync(file).isDirectory()) throw new BackupError(`${file} is a directory: give the backup file's name inside it`);
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BackupError(`cannot write ${file}: ${dir} is not an existing directory`);
}

/**
 * Copies the store at `dbPath` to `file` (written beside it first, renamed when complete, so a
 * half-written backup never carries the final name). The copy is a single file in rollback-journal
 * mode, with mode 0600. Refuses to replace an existing `file` unless `overwrite`.
 */
export async function backupSqlite(dbPath: string, file: string, options: { overwrite?: boolean } = {}): Promise<{ pages: number; version: number }> {
  if (!existsSync(dbPath)) throw new BackupError(`there is no store at ${dbPath} (check HEARTH_DATA_DIR)`);
  checkBackupTarget(file);
  if (existsSync(file) && !options.overwrite) throw new BackupError(`${file} already exists: choose another name or pass --force`);
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  // Created 0600 before SQLite writes into it: a backup is the whole store, key digests included.
  privateFile(partial);
  const source = open(dbPath);
  try {
    const pages = await backup(source, partial, { rate: ALL_PAGES });
    const copy = open(partial);
    try {
      copy.exec("PRAGMA journal_mode = DELETE");
    } finally {
      copy.close();
    }
    const version = checkStoreFile(partial);
    renameSync(partial, file);
    return { pages, version };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    source.close();
  }
}

/**
 * Replaces the store at `dbPath` with the backup in `file`, exactly. A store another process has
 * open (a running server) is refused unless `force`: then the running server sees the restored
 * data at once, but keys it had cached stay valid up to HEARTH_KEY_CACHE_TTL_MS, so restart it.
 */
export async function restoreSqlite(
  dbPath: string,
  file: string,
  options: { force?: boolean } = {},
): Promise<{ pages: number; version: number; wasInUse: boolean }> {
  const version = checkStoreFile(file);
  const wasInUse = storeInUse(dbPath);
  if (wasInUse && !options.force) {
    throw new BackupError(
      `the store at ${dbPath} is open in another process (a running hearth serve?): stop it and run restore again, or pass --force to restore under it and then restart it`,
    );
  }
  privateFile(dbPath);
  const source = open(file, true);
  try {
    const pages = await backup(source, dbPath, { rate: ALL_PAGES });
    return { pages, version, wasInUse };
  } finally {
    source.close();
  }
}
