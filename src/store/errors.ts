import { alreadyExists } from "../domain/errors.ts";

/** True for a unique-constraint violation on either dialect (SQLite extended codes, PostgreSQL 23505). */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown } | null;
  if (!e) return false;
  if (e.code === "23505") return true;
  // SQLITE_CONSTRAINT_UNIQUE = 2067, SQLITE_CONSTRAINT_PRIMARYKEY = 1555
  return e.code === "ERR_SQLITE_ERROR" && (e.errcode === 2067 || e.errcode === 1555);
}

/** Runs an insert; a unique violation becomes ALREADY_EXISTS with `message`. */
export async function insertUnique<T>(insert: () => Promise<T>, message: string): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (isUniqueViolation(error)) throw alreadyExists(message);
    throw error;
  }
}

/** A unique index a write may hit, and the sentence its violation becomes. */
export interface UniqueIndex {
  /** The index name (PostgreSQL reports it as the violated constraint). */
  name: string;
  /** `table.column` list as SQLite words it: "UNIQUE constraint failed: t.a, t.b". */
  columns: string;
  message: string;
}

/**
 * Runs a write; a unique violation becomes ALREADY_EXISTS with the message of the index it hit
 * (among `indexes`), else with `message`.
 */
export async function writeUnique<T>(write: () => Promise<T>, message: string, indexes: readonly UniqueIndex[]): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const e = error as { constraint?: unknown; message?: unknown };
    const hit = indexes.find((i) => e.constraint === i.name || (typeof e.message === "string" && e.message.includes(`UNIQUE constraint failed: ${i.columns}`)));
    throw alreadyExists(hit?.message ?? message);
  }
}
