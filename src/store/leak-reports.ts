import type { Db } from "./store.ts";

/**
 * What `claimLeakReport` found: "claimed" (this request acts on the report), "done" (it was acted on
 * before: nothing to do), "busy" (another request is acting on it right now).
 */
export type LeakReportClaim = "claimed" | "done" | "busy";

/**
 * Claims the report with this body digest (hex SHA-256) for acting on, at `now` (epoch ms), until
 * `now + leaseMs`. The insert (or the take-over of a claim whose lease ran out: its process died part
 * way) decides, so of two requests carrying the same report at once exactly one acts on it.
 */
export async function claimLeakReport(db: Db, digest: string, now: number, leaseMs: number): Promise<LeakReportClaim> {
  const inserted = await db
    .insertInto("leak_reports")
    .values({ digest, receive_time: now, claim_expire_time: now + leaseMs })
    .onConflict((oc) => oc.column("digest").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return "claimed";
  const taken = await db
    .updateTable("leak_reports")
    .set({ receive_time: now, claim_expire_time: now + leaseMs })
    .where("digest", "=", digest)
    .where("claim_expire_time", "is not", null)
    .where("claim_expire_time", "<=", now)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return "claimed";
  const row = await db.selectFrom("leak_reports").select("claim_expire_time").where("digest", "=", digest).executeTakeFirst();
  return row !== undefined && row.claim_expire_time === null ? "done" : "busy";
}

/** Records a claimed report as acted on: the same body again changes nothing. */
export async function finishLeakReport(db: Db, digest: string, receiveTime: number): Promise<void> {
  await db.updateTable("leak_reports").set({ claim_expire_time: null }).where("digest", "=", digest).where("receive_time", "=", receiveTime).execute();
}

/** Gives up a claim after a failure part way, so that the scanner's retry is acted on. */
export async function releaseLeakReport(db: Db, digest: string, receiveTime: number): Promise<void> {
  await db.deleteFrom("leak_reports").where("digest", "=", digest).where("receive_time", "=", receiveTime).where("claim_expire_time", "is not", null).execute();
}
