import type { CliGrantRow } from "./schema.ts";
import type { Db } from "./store.ts";

export async function insertCliGrant(db: Db, row: CliGrantRow): Promise<void> {
  await db.insertInto("cli_grants").values(row).execute();
}

/**
 * Removes a grant and returns it: the delete is the claim, so of two redemptions racing exactly one
 * gets the row, and a code is never usable twice whatever the outcome of the first attempt.
 */
export function takeCliGrant(db: Db, digest: string): Promise<CliGrantRow | undefined> {
  return db.deleteFrom("cli_grants").where("digest", "=", digest).returningAll().executeTakeFirst();
}

/** Housekeeping: codes nobody redeemed in time. */
export async function deleteExpiredCliGrants(db: Db, now: number): Promise<void> {
  await db.deleteFrom("cli_grants").where("expire_time", "<", now).execute();
}
