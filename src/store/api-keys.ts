import { sql } from "kysely";
import type { ApiKeyRow, UserRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";

export async function insertApiKey(db: Db, row: ApiKeyRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("api_keys")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `API key "${row.id}" already exists`,
  );
}

export function getApiKey(db: Db, accountId: string, userId: string, keyId: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom("api_keys").selectAll().where("account_id", "=", accountId).where("user_id", "=", userId).where("id", "=", keyId).executeTakeFirst();
}

export async function deleteApiKey(db: Db, keyId: string): Promise<void> {
  await db.deleteFrom("api_keys").where("id", "=", keyId).execute();
}

/**
 * The keys of one principal usable at `now` (epoch ms): without an expiry or expiring later. An
 * expired key no longer authenticates, so it does not count toward "api-keys-per-user" (issue 15).
 */
export async function countApiKeys(db: Db, accountId: string, userId: string, now: number): Promise<number> {
  const r = await db
    .selectFrom("api_keys")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("expire_time", "is", null), eb("expire_time", ">", now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The most keys usable at `now` (epoch ms) that any one principal of the account holds (usage of the per-user quota). */
export async function maxApiKeysPerUser(db: Db, accountId: string, now: number): Promise<number> {
  const r = await db
    .selectFrom((eb) =>
      eb
        .selectFrom("api_keys")
        .select((e) => e.fn.countAll().as("n"))
        .where("account_id", "=", accountId)
        .where((e) => e.or([e("expire_time", "is", null), e("expire_time", ">", now)]))
        .groupBy("user_id")
        .as("per_user"),
    )
    .select((eb) => eb.fn.max("n").as("m"))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

export type KeyWithOwner = ApiKeyRow & Pick<UserRow, "uid" | "email" | "role" | "service_account">;

/** The key with this digest and its owner, in one indexed lookup. */
export function findKeyByDigest(db: Db, digest: string): Promise<KeyWithOwner | undefined> {
  return db
    .selectFrom("api_keys")
    .innerJoin("users", (j) => j.onRef("users.account_id", "=", "api_keys.account_id").onRef("users.id", "=", "api_keys.user_id"))
    .selectAll("api_keys")
    .select(["users.uid", "users.email", "users.role", "users.service_account"])
    .where("api_keys.digest", "=", digest)
    .executeTakeFirst();
}

/** Writes the newest `lastUsed` of many keys at once. */
/** Keys per statement: two parameters each stays far below both dialects' bind limits. */
const LAST_USED_BATCH = 500;

/** Writes the newest `lastUsed` of many keys, one UPDATE … FROM (VALUES …) per batch. */
export async function writeLastUsed(db: Db, entries: ReadonlyMap<string, number>): Promise<void> {
  const all = [...entries];
  for (let i = 0; i < all.length; i += LAST_USED_BATCH) {
    const values = all.slice(i, i + LAST_USED_BATCH).map(([id, time]) => sql`(cast(${id} as text), cast(${time} as bigint))`);
    await sql`update api_keys set last_used = v.t
      from (select column1 as id, column2 as t from (values ${sql.join(values)}) as x) as v
      where api_keys.id = v.id`.execute(db);
  }
}

const apiKeysTable: ListTable = {
  fields: {
    key_id: { column: "id", type: "string" },
    display_name: { column: "display_name", type: "string", folded: true },
    create_time: { column: "create_time", type: "timestamp" },
    expire_time: { column: "expire_time", type: "timestamp" },
    last_used: { column: "last_used", type: "timestamp" },
  },
  order: { key_id: "id", display_name: "display_name", create_time: "create_time" },
  defaultOrderBy: "create_time",
  idColumn: "id",
};

export function listApiKeys(db: Db, accountId: string, userId: string | undefined, req: ListRequest): Promise<ListResult<ApiKeyRow>> {
  let base = db.selectFrom("api_keys").where("account_id", "=", accountId);
  if (userId !== undefined) base = base.where("user_id", "=", userId);
  return listPage<ApiKeyRow>(base, apiKeysTable, req);
}
