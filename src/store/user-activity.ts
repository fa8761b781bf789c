import type { Db } from "./store.ts";

/** What a users list shows beside each principal: how many API keys it has and when it was last active. */
export interface UserActivity {
  apiKeyCount: number;
  /** Epoch milliseconds of its newest key use or browser-session activity; undefined when never. */
  lastActive: number | undefined;
}

/**
 * The activity of the given users of an account, by user id (every id present): two grouped reads
 * over the `api_keys (account_id, user_id)` and `sessions (account_id, user_id)` indexes. Key uses
 * are the written-behind `last_used`, so the newest few seconds may not show yet.
 */
export async function userActivity(db: Db, accountId: string, userIds: readonly string[]): Promise<Map<string, UserActivity>> {
  const activity = new Map<string, UserActivity>(userIds.map((id) => [id, { apiKeyCount: 0, lastActive: undefined }]));
  if (userIds.length === 0) return activity;
  const [keys, sessions] = await Promise.all([
    db
      .selectFrom("api_keys")
      .select((eb) => ["user_id", eb.fn.countAll<number | string>().as("n"), eb.fn.max("last_used").as("used")])
      .where("account_id", "=", accountId)
      .where("user_id", "in", [...userIds])
      .groupBy("user_id")
      .execute(),
    db
      .selectFrom("sessions")
      .select((eb) => ["user_id", eb.fn.max("last_seen").as("seen")])
      .where("account_id", "=", accountId)
      .where("user_id", "in", [...userIds])
      .groupBy("user_id")
      .execute(),
  ]);
  const later = (a: number | undefined, b: number | string | null | undefined): number | undefined =>
    b === null || b === undefined ? a : Math.max(a ?? 0, Number(b));
  for (const k of keys) {
    const a = activity.get(k.user_id)!;
    a.apiKeyCount = Number(k.n);
    a.lastActive = later(a.lastActive, k.used);
  }
  for (const s of sessions) {
    const a = activity.get(s.user_id)!;
    a.lastActive = later(a.lastActive, s.seen);
  }
  return activity;
}
