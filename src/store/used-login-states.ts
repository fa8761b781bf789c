import type { Db } from "./store.ts";

/**
 * Records a web sign-in's state (its digest) as used until `expireTime` (ms since the epoch).
 * Returns false when it already was: the insert itself decides, so of two processes taking the
 * same callback at once exactly one sees `true`. Expired rows are removed on the way.
 */
export async function claimUsedLoginState(db: Db, digest: string, expireTime: number, now: number): Promise<boolean> {
  await db.deleteFrom("used_login_states").where("expire_time", "<=", now).execute();
  const result = await db
    .insertInto("used_login_states")
    .values({ digest, expire_time: expireTime })
    .onConflict((oc) => oc.column("digest").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}
