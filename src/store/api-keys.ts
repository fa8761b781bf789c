import { sql } from "kysely";
import type { ApiKeyRow, ApiKeyTombstoneRow, UserRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";

/** The restriction columns of an unrestricted key (all null); a new key without restrictions spreads these. */
export const NO_RESTRICTIONS: Readonly<Pick<ApiKeyRow, "scopes" | "allowed_models" | "allowed_cidrs" | "rpm" | "tpm" | "monthly_spend_nanos">> = Object.freeze({
  scopes: null,
  allowed_models: null,
  allowed_cidrs: null,
  rpm: null,
  tpm: null,
  monthly_spend_nanos: null,
});

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

/** One key of the account by its id: `userId`'s, or with `userId` undefined whoever's it is (key ids are unique). */
export function getApiKey(db: Db, accountId: string, userId: string | undefined, keyId: string): Promise<ApiKeyRow | undefined> {
  let query = db.selectFrom("api_keys").selectAll().where("account_id", "=", accountId).where("id", "=", keyId);
  if (userId !== undefined) query = query.where("user_id", "=", userId);
  return query.executeTakeFirst();
}

export async function deleteApiKey(db: Db, keyId: string, now: number): Promise<void> {
  await tombstoneParents(db, now, { keyId });
  await db.deleteFrom("api_keys").where("id", "=", keyId).execute();
}

/** Deletes every key of a user (with the user), leaving tombstones as `deleteApiKey` does. */
export async function deleteUserApiKeys(db: Db, accountId: string, userId: string, now: number): Promise<void> {
  await tombstoneParents(db, now, { accountId, userId });
  await db.deleteFrom("api_keys").where("account_id", "=", accountId).where("user_id", "=", userId).execute();
}

/**
 * Before keys are deleted (one by id, or a user's): each of them that has keys made through it
 * (live, or deleted and tombstoned themselves) leaves a tombstone (its digest, id, account, owner,
 * parent; `now` epoch ms), so that a leak report of its secret, or of a key above it, arriving
 * after the deletion still reaches those keys (`findTombstone`, `tombstonesMadeThrough`). Others leave nothing.
 */
async function tombstoneParents(db: Db, now: number, which: { keyId: string } | { accountId: string; userId: string }): Promise<void> {
  let keys = db
    .selectFrom("api_keys as k")
    .select(["k.digest", "k.id", "k.account_id", "k.user_id", "k.parent_key_id"])
    .where((eb) =>
      eb.or([
        // `<> ''` (a literal) lets SQLite use the partial indexes on parent_key_id (without it, each key scans the table).
        eb.exists(eb.selectFrom("api_keys as c").select("c.id").whereRef("c.parent_key_id", "=", "k.id").where("c.parent_key_id", "<>", sql.lit(""))),
        eb.exists(eb.selectFrom("api_key_tombstones as t").select("t.id").whereRef("t.parent_key_id", "=", "k.id").where("t.parent_key_id", "<>", sql.lit(""))),
      ]),
    );
  keys = "keyId" in which ? keys.where("k.id", "=", which.keyId) : keys.where("k.account_id", "=", which.accountId).where("k.user_id", "=", which.userId);
  const parents = await keys.execute();
  if (parents.length === 0) return;
  await db
    .insertInto("api_key_tombstones")
    .values(parents.map((p) => ({ ...p, delete_time: now })))
    .onConflict((oc) => oc.column("digest").doNothing())
    .execute();
}

/** The ids of deleted (tombstoned) keys made through any of `parentIds`: links of a chain a deletion cut. */
export async function tombstonesMadeThrough(db: Db, parentIds: readonly string[]): Promise<string[]> {
  if (parentIds.length === 0) return [];
  return (
    await db.selectFrom("api_key_tombstones").select("id").where("parent_key_id", "in", parentIds).where("parent_key_id", "<>", sql.lit("")).execute()
  ).map((r) => r.id);
}

/** The tombstone of a deleted key with this digest (hex), if it had keys made through it. */
export function findTombstone(db: Db, digest: string): Promise<ApiKeyTombstoneRow | undefined> {
  return db.selectFrom("api_key_tombstones").selectAll().where("digest", "=", digest).executeTakeFirst();
}

/**
 * The keys of one principal usable at `now` (epoch ms): enabled, and without an expiry or expiring
 * later. An expired or disabled key does not authenticate, so it does not count toward
 * "api-keys-per-user" (issues 15 and 18); a disabled key counts again once enabled.
 */
export async function countApiKeys(db: Db, accountId: string, userId: string, now: number): Promise<number> {
  const r = await db
    .selectFrom("api_keys")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where("state", "=", "ENABLED")
    .where((eb) => eb.or([eb("expire_time", "is", null), eb("expire_time", ">", now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Whether the principal has a key that works at `now` (epoch ms) or could work again: unexpired,
 * enabled or disabled (a disabled key may be enabled again).
 */
export async function hasUnexpiredApiKey(db: Db, accountId: string, userId: string, now: number): Promise<boolean> {
  const r = await db
    .selectFrom("api_keys")
    .select("id")
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("expire_time", "is", null), eb("expire_time", ">", now)]))
    .executeTakeFirst();
  return r !== undefined;
}

/** Whether the principal has a rotated key still usable at `now` (epoch ms): one in its rotation's grace period. */
export async function hasKeyInGrace(db: Db, accountId: string, userId: string, now: number): Promise<boolean> {
  const r = await db
    .selectFrom("api_keys")
    .select("id")
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where("state", "=", "ENABLED")
    .where("successor_key_id", "!=", "")
    .where("expire_time", ">", now)
    .executeTakeFirst();
  return r !== undefined;
}

/** The most keys usable at `now` (epoch ms; enabled, unexpired) that any one principal of the account holds (usage of the per-user quota). */
export async function maxApiKeysPerUser(db: Db, accountId: string, now: number): Promise<number> {
  const r = await db
    .selectFrom((eb) =>
      eb
        .selectFrom("api_keys")
        .select((e) => e.fn.countAll().as("n"))
        .where("account_id", "=", accountId)
        .where("state", "=", "ENABLED")
        .where((e) => e.or([e("expire_time", "is", null), e("expire_time", ">", now)]))
        .groupBy("user_id")
        .as("per_user"),
    )
    .select((eb) => eb.fn.max("n").as("m"))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

export type KeyWithOwner = ApiKeyRow & Pick<UserRow, "uid" | "email" | "role" | "service_account">;

/** Keys joined with their owners' uid, email, role and service_account (a `KeyWithOwner` each), to narrow with `where`. */
const keysWithOwners = (db: Db) =>
  db
    .selectFrom("api_keys")
    .innerJoin("users", (j) => j.onRef("users.account_id", "=", "api_keys.account_id").onRef("users.id", "=", "api_keys.user_id"))
    .selectAll("api_keys")
    .select(["users.uid", "users.email", "users.role", "users.service_account"]);

/** The key with this id in `accountId` and its owner, in one indexed lookup (for a URL the key signed: see service/url-signer.ts). */
export function findKeyById(db: Db, accountId: string, keyId: string): Promise<KeyWithOwner | undefined> {
  return keysWithOwners(db).where("api_keys.account_id", "=", accountId).where("api_keys.id", "=", keyId).executeTakeFirst();
}

/** The key with this digest and its owner, in one indexed lookup. */
export function findKeyByDigest(db: Db, digest: string): Promise<KeyWithOwner | undefined> {
  return keysWithOwners(db).where("api_keys.digest", "=", digest).executeTakeFirst();
}

/** A key's newest use: when (epoch ms), and the client's address and User-Agent ("" when unknown). */
export interface LastUse {
  time: number;
  ip: string;
  userAgent: string;
}

/** Keys per statement: four parameters each stays far below both dialects' bind limits. */
const LAST_USED_BATCH = 500;

/** Writes the newest use of many keys, one UPDATE … FROM (VALUES …) per batch. */
export async function writeLastUsed(db: Db, entries: ReadonlyMap<string, LastUse>): Promise<void> {
  const all = [...entries];
  for (let i = 0; i < all.length; i += LAST_USED_BATCH) {
    const values = all
      .slice(i, i + LAST_USED_BATCH)
      .map(([id, use]) => sql`(cast(${id} as text), cast(${use.time} as bigint), cast(${use.ip} as text), cast(${use.userAgent} as text))`);
    await sql`update api_keys set last_used = v.t, last_used_ip = v.ip, last_used_user_agent = v.ua
      from (select column1 as id, column2 as t, column3 as ip, column4 as ua from (values ${sql.join(values)}) as x) as v
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
    // Days since the key last authenticated; a never-used key counts from its creation.
    unused_days: { column: "create_time", type: "elapsed_days", since: [sql.ref("last_used")] },
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

/** Renames a key. */
export async function setApiKeyDisplayName(db: Db, keyId: string, displayName: string): Promise<void> {
  await db
    .updateTable("api_keys")
    .set(withFolded({ display_name: displayName }, ["display_name"]))
    .where("id", "=", keyId)
    .execute();
}

/** Sets a key's restriction columns (those present in `columns`); returns whether the key exists. */
export async function setApiKeyRestrictions(db: Db, keyId: string, columns: Partial<typeof NO_RESTRICTIONS>): Promise<boolean> {
  if (Object.keys(columns).length === 0) return true;
  const r = await db.updateTable("api_keys").set(columns).where("id", "=", keyId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The keys made through any of `parentIds` (their `parent_key_id`), whatever their state. */
export function keysMadeThrough(db: Db, parentIds: readonly string[]): Promise<ApiKeyRow[]> {
  if (parentIds.length === 0) return Promise.resolve([]);
  // `<> ''` (a literal) lets SQLite use the partial index api_keys_parent_key_id (an IN list alone does not imply it: a full scan).
  return db.selectFrom("api_keys").selectAll().where("parent_key_id", "in", parentIds).where("parent_key_id", "<>", sql.lit("")).execute();
}

/** Sets a key's state and disable reason (`reason` empty when enabling); returns whether the key exists. */
export async function setApiKeyState(db: Db, keyId: string, state: "ENABLED" | "DISABLED", reason: string): Promise<boolean> {
  const r = await db.updateTable("api_keys").set({ state, disable_reason: reason }).where("id", "=", keyId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Records that `keyId` was rotated to `successorId` and ends its life at `expireTime` (epoch ms). */
export async function markRotated(db: Db, keyId: string, successorId: string, expireTime: number): Promise<void> {
  await db.updateTable("api_keys").set({ successor_key_id: successorId, expire_time: expireTime }).where("id", "=", keyId).execute();
}

/** The display names of the account's keys among `keyIds` (a deleted key has none), by id: to label usage rows. */
export async function apiKeyDisplayNames(db: Db, accountId: string, keyIds: readonly string[]): Promise<Map<string, string>> {
  if (keyIds.length === 0) return new Map();
  const rows = await db.selectFrom("api_keys").select(["id", "display_name"]).where("account_id", "=", accountId).where("id", "in", keyIds).execute();
  return new Map(rows.map((r) => [r.id, r.display_name]));
}

/** The ids of the account's keys named one of `names` (display names need not be unique): to filter usage by key name. */
export async function apiKeyIdsNamed(db: Db, accountId: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db.selectFrom("api_keys").select("id").where("account_id", "=", accountId).where("display_name", "in", names).execute();
  return rows.map((r) => r.id);
}
