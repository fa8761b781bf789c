import type { SigninLinkRow, UserRow } from "./schema.ts";
import type { Db } from "./store.ts";

export async function insertSigninLink(db: Db, row: SigninLinkRow): Promise<void> {
  await db.insertInto("signin_links").values(row).execute();
}

export type LinkWithUser = SigninLinkRow & Pick<UserRow, "uid" | "email" | "role" | "service_account" | "sessions_revoke_time">;

export function findSigninLink(db: Db, digest: string): Promise<LinkWithUser | undefined> {
  return db
    .selectFrom("signin_links")
    .innerJoin("users", (j) => j.onRef("users.account_id", "=", "signin_links.account_id").onRef("users.id", "=", "signin_links.user_id"))
    .selectAll("signin_links")
    .select(["users.uid", "users.email", "users.role", "users.service_account", "users.sessions_revoke_time"])
    .where("signin_links.digest", "=", digest)
    .executeTakeFirst();
}

/**
 * Marks a link used if it is still unused and unexpired. The condition is part of the update, so
 * of two processes redeeming one link at once exactly one sees `true`.
 */
export async function claimSigninLink(db: Db, digest: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable("signin_links")
    .set({ used_time: now })
    .where("digest", "=", digest)
    .where("used_time", "is", null)
    .where("expire_time", ">", now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Housekeeping: links that expired more than a day ago are of no further use, even for the record. */
export async function deleteOldSigninLinks(db: Db, now: number): Promise<void> {
  await db
    .deleteFrom("signin_links")
    .where("expire_time", "<", now - 24 * 3600 * 1000)
    .execute();
}
