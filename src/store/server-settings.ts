import type { Db } from "./store.ts";

/** Names of the settings a serving process records for operator commands run elsewhere. */
export type ServerSettingName = "public_url";

/** The stored value of `name`, or undefined when no server has recorded it yet. */
export async function getServerSetting(db: Db, name: ServerSettingName): Promise<string | undefined> {
  const row = await db.selectFrom("server_settings").select("value").where("name", "=", name).executeTakeFirst();
  return row?.value;
}

/** Records `value` under `name` (the last writer wins); `now` in epoch milliseconds. */
export async function putServerSetting(db: Db, name: ServerSettingName, value: string, now: number): Promise<void> {
  await db
    .insertInto("server_settings")
    .values({ name, value, update_time: now })
    .onConflict((oc) => oc.column("name").doUpdateSet({ value, update_time: now }))
    .execute();
}
