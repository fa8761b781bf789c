import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { nameField } from "./filter-sql.ts";
import type { UserRow } from "./schema.ts";
import { deleteUserApiKeys } from "./api-keys.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { ROLES } from "../domain/roles.ts";
import { alreadyExists } from "../domain/errors.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";

export function getUser(db: Db, accountId: string, userId: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("account_id", "=", accountId).where("id", "=", userId).executeTakeFirst();
}

/** The user of `accountId` with this AIP-148 uid (never reused: a user deleted and created again under its id has another). */
export function getUserByUid(db: Db, accountId: string, uid: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("account_id", "=", accountId).where("uid", "=", uid).executeTakeFirst();
}

export function getUserByEmail(db: Db, accountId: string, email: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("account_id", "=", accountId).where("email", "=", email).executeTakeFirst();
}

/** Emails of the given users, by id. */
export async function userEmails(db: Db, accountId: string, userIds: string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db.selectFrom("users").select(["id", "email"]).where("account_id", "=", accountId).where("id", "in", userIds).execute();
  return new Map(rows.map((r) => [r.id, r.email]));
}

/**
 * Every user of every account, by account, id and email (for the start-up check of stored emails),
 * in account and user id order, read `pageSize` rows at a time (keyset paging), so that a store of
 * any size is read in bounded memory.
 */
export async function* allUserEmails(db: Db, pageSize = 1_000): AsyncGenerator<{ account_id: string; id: string; email: string }> {
  let after: { account_id: string; id: string } | undefined;
  for (;;) {
    let query = db.selectFrom("users").select(["account_id", "id", "email"]);
    if (after) {
      const { account_id, id } = after;
      query = query.where((eb) => eb.or([eb("account_id", ">", account_id), eb.and([eb("account_id", "=", account_id), eb("id", ">", id)])]));
    }
    const rows = await query.orderBy("account_id").orderBy("id").limit(pageSize).execute();
    yield* rows;
    if (rows.length < pageSize) return;
    after = rows.at(-1)!;
  }
}

/**
 * Inserts a user with a new uid (a random UUID, AIP-148: system-assigned, never reused, so a user
 * re-created under a deleted one's id or email is told apart from it); returns the stored row.
 */
export async function insertUser(db: Db, fields: Omit<UserRow, "uid" | "permission_preset"> & { permission_preset?: string }): Promise<UserRow> {
  const row: UserRow = { permission_preset: "", ...fields, uid: randomUUID() };
  // The pre-checks name the clash; the unique indexes stay the authority when two requests race.
  if (await getUser(db, row.account_id, row.id)) throw alreadyExists(`user "${row.id}" already exists`);
  if (await getUserByEmail(db, row.account_id, row.email)) {
    throw alreadyExists(`a user with email "${row.email}" already exists`);
  }
  await insertUnique(
    () =>
      db
        .insertInto("users")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `user "${row.id}" already exists`,
  );
  return row;
}

export type UserPatch = Partial<Pick<UserRow, "display_name" | "role" | "permission_preset">>;

export async function updateUser(db: Db, accountId: string, userId: string, patch: UserPatch & { update_time: number }): Promise<void> {
  await db
    .updateTable("users")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", userId)
    .execute();
}

/** Records `time` (epoch ms) as the user's last sign-in. */
export async function setLastSignIn(db: Db, accountId: string, userId: string, time: number): Promise<void> {
  await db.updateTable("users").set({ last_sign_in_time: time }).where("account_id", "=", accountId).where("id", "=", userId).execute();
}

/** Records that an admin revoked the user's sessions at `time` (epoch ms): sign-ins made then or before end. */
export async function setSessionsRevokeTime(db: Db, accountId: string, userId: string, time: number): Promise<void> {
  await db.updateTable("users").set({ sessions_revoke_time: time }).where("account_id", "=", accountId).where("id", "=", userId).execute();
}

/** Deletes a user and its API keys (leaving the tombstones `deleteUserApiKeys` leaves; `now` epoch ms). */
export async function deleteUser(db: Db, accountId: string, userId: string, now: number): Promise<void> {
  await deleteUserApiKeys(db, accountId, userId, now);
  await db.deleteFrom("users").where("account_id", "=", accountId).where("id", "=", userId).execute();
}

/** How many human users (not service accounts) the account holds (the "users" quota's usage; index users_service_account). */
export async function countHumanUsers(db: Db, accountId: string): Promise<number> {
  const { held } = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<number | string>().as("held"))
    .where("account_id", "=", accountId)
    .where("service_account", "=", 0)
    .executeTakeFirstOrThrow();
  return Number(held);
}

/**
 * How many service accounts the account holds: `accounts.service_account_count`, which triggers on
 * users keep in the same transaction as every change (migration 26), so a quota check reads one
 * row however many there are. 0 for an account that does not exist.
 */
export async function countServiceAccounts(db: Db, accountId: string): Promise<number> {
  const r = await db.selectFrom("accounts").select("service_account_count").where("id", "=", accountId).executeTakeFirst();
  return Number(r?.service_account_count ?? 0);
}

/**
 * Counts the account's admins who can act, up to `upTo`: a READY human admin (signs in, may hold
 * keys), or a READY service-account admin holding at least one enabled API key that has not
 * expired at `now` (epoch ms). `except` leaves out one user, or one key, as if it were already gone: "would
 * anyone still be able to act after this change?"
 */
export async function countActingAdmins(db: Db, accountId: string, now: number, except: { userId?: string; keyId?: string } = {}, upTo = 2): Promise<number> {
  let matching = db
    .selectFrom("users as u")
    .select("u.id")
    .where("u.account_id", "=", accountId)
    .where("u.role", "=", "admin")
    .where("u.state", "=", "READY")
    .where((eb) => {
      let liveKey = eb
        .selectFrom("api_keys as k")
        .select("k.id")
        .whereRef("k.account_id", "=", "u.account_id")
        .whereRef("k.user_id", "=", "u.id")
        .where("k.state", "=", "ENABLED")
        .where((k) => k.or([k("k.expire_time", "is", null), k("k.expire_time", ">", now)]));
      if (except.keyId !== undefined) liveKey = liveKey.where("k.id", "<>", except.keyId);
      return eb.or([eb("u.service_account", "=", 0), eb.exists(liveKey)]);
    });
  if (except.userId !== undefined) matching = matching.where("u.id", "<>", except.userId);
  const r = await db
    .selectFrom(matching.limit(upTo).as("m"))
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The newest use of any of the user's keys (NULL: none used), for the list's `unused_days`. */
const LAST_KEY_USE = sql`(select max(k.last_used) from api_keys k where k.account_id = users.account_id and k.user_id = users.id)`;

export function usersTable(accountId: string): ListTable {
  return {
    fields: {
      name: nameField(collectionName(accountId, "users")),
      user_id: { column: "id", type: "string" },
      uid: { column: "uid", type: "string" },
      display_name: { column: "display_name", type: "string", folded: true },
      email: { column: "email", type: "string", normalize: (v) => v.toLowerCase() },
      role: { column: "role", type: "enum", values: ROLES },
      service_account: { column: "service_account", type: "boolean" },
      state: { column: "state", type: "enum", values: ["CREATING", "READY", "UPDATING", "DELETING"] },
      create_time: { column: "create_time", type: "timestamp" },
      update_time: { column: "update_time", type: "timestamp" },
      // Days since the principal last authenticated (a sign-in, or any of its keys); never: since its creation.
      unused_days: { column: "create_time", type: "elapsed_days", since: [sql.ref("last_sign_in_time"), LAST_KEY_USE] },
    },
    order: {
      name: "id",
      display_name: "display_name",
      email: "email",
      role: "role",
      create_time: "create_time",
      update_time: "update_time",
    },
    defaultOrderBy: "name",
    idColumn: "id",
  };
}

export function listUsers(db: Db, accountId: string, req: ListRequest): Promise<ListResult<UserRow>> {
  return listPage<UserRow>(db.selectFrom("users").where("account_id", "=", accountId), usersTable(accountId), req);
}
