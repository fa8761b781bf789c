import type { CliSignOutRow } from "./schema.ts";
import type { Db } from "./store.ts";

/** Records that a firectl sign-in was ended by its user; ending it again changes nothing. */
export async function recordCliSignOut(db: Db, row: CliSignOutRow): Promise<void> {
  await db
    .insertInto("cli_sign_outs")
    .values(row)
    .onConflict((oc) => oc.columns(["account_id", "user_id", "sign_in_time"]).doNothing())
    .execute();
}

/** Whether the firectl sign-in of `userId` made at `signInTime` (epoch ms) was signed out. */
export async function cliSignedOut(db: Db, accountId: string, userId: string, signInTime: number): Promise<boolean> {
  const row = await db
    .selectFrom("cli_sign_outs")
    .select("sign_out_time")
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where("sign_in_time", "=", signInTime)
    .executeTakeFirst();
  return row !== undefined;
}
