/**
 * @module File modes of the data directory. The store, its WAL and shared-memory files, backups,
 * the sealing key (`secret-key`) and the first admin's key (`admin-api-key`) are credentials or
 * hold them (key digests, sealed client secrets, audit logs): no other local user may read them.
 * The directory is 0700 and those files 0600; a directory made by an older version (or by hand,
 * under a permissive umask) is tightened at start-up.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

/** What the data directory may hold; each is made 0600 when present. */
const PRIVATE_FILES = ["hearth.db", "hearth.db-wal", "hearth.db-shm", "hearth.db-journal", "secret-key", "admin-api-key"];

/**
 * Creates `dir` (and its parents) if missing, then sets it to 0700 and every known store or key
 * file in it to 0600. Returns `dir`.
 * @throws the file system's error when `dir` cannot be created or its mode changed (not ours).
 */
export function privateDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const name of PRIVATE_FILES) {
    const file = join(dir, name);
    if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
  }
  return dir;
}

/**
 * Makes sure `file` exists with mode 0600 before SQLite opens it: SQLite creates a missing
 * database with the umask's mode, and gives its `-wal`, `-shm` and `-journal` files the mode of
 * the database file, so a 0600 database keeps them all 0600.
 */
export function privateFile(file: string): string {
  closeSync(openSync(file, "a", PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
  return file;
}
