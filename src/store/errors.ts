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
