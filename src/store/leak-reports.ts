import type { Db } from "./store.ts";

/** True when a report with this body digest (hex SHA-256) was acted on before. */
export async function leakReportActedOn(db: Db, digest: string): Promise<boolean> {
  return (await db.selectFrom("leak_reports").select("digest").where("digest", "=", digest).executeTakeFirst()) !== undefined;
}

/** Records a report as acted on at `now` (epoch ms); recording it twice is harmless. */
export async function recordLeakReport(db: Db, digest: string, now: number): Promise<void> {
  await db
    .insertInto("leak_reports")
    .values({ digest, receive_time: now })
    .onConflict((oc) => oc.column("digest").doNothing())
    .execute();
}
