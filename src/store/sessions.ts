import type { SessionRow, UserRow } from "./schema.ts";
import type { Db } from "./store.ts";

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insertInto("sessions").values(row).execute();
}

export type SessionWithUser = SessionRow & Pick<UserRow, "uid" | "email" | "role" | "service_account">;

/** The session with this digest and its user, in one indexed lookup. */
export function findSession(db: Db, digest: string): Promise<SessionWithUser | undefined> {
  return db
    .selectFrom("sessions")
    .innerJoin("users", (j) => j.onRef("users.account_id", "=", "sessions.account_id").onRef("users.id", "=", "sessions.user_id"))
    .selectAll("sessions")
    .select(["users.uid", "users.email", "users.role", "users.service_account"])
    .where("sessions.digest", "=", digest)
    .executeTakeFirst();
}

export async function touchSession(db: Db, digest: string, time: number): Promise<void> {
  await db.updateTable("sessions").set({ last_seen: time }).where("digest", "=", digest).execute();
}

export async function deleteSession(db: Db, digest: string): Promise<void> {
  await db.deleteFrom("sessions").where("digest", "=", digest).execute();
}

/** Ends every session of one user; returns how many there were. */
export async function deleteUserSessions(db: Db, accountId: string, userId: string): Promise<number> {
  const r = await db.deleteFrom("sessions").where("account_id", "=", accountId).where("user_id", "=", userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Removes a user's sessions that ended by either timeout (housekeeping when a new one starts). */
export async function deleteEndedSessions(db: Db, accountId: string, userId: string, now: number, idleMs: number): Promise<void> {
  await db
    .deleteFrom("sessions")
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("expire_time", "<=", now), eb("last_seen", "<=", now - idleMs)]))
    .execute();
}

/** Ends the sessions of an account that began one way (e.g. through one identity provider). */
export async function deleteSessionsVia(db: Db, accountId: string, via: string): Promise<void> {
  await db.deleteFrom("sessions").where("account_id", "=", accountId).where("via", "=", via).execute();
}
