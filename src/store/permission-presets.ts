import type { PermissionPresetRow, UserRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { nameField } from "./filter-sql.ts";
import { withFolded } from "./folded-columns.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { collectionName } from "../domain/resource-names.ts";

export async function insertPermissionPreset(db: Db, row: PermissionPresetRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("permission_presets")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `permission preset "${row.id}" already exists`,
  );
}

export function getPermissionPreset(db: Db, accountId: string, id: string): Promise<PermissionPresetRow | undefined> {
  return db.selectFrom("permission_presets").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

const presetsTable = (accountId: string): ListTable => ({
  fields: {
    name: nameField(collectionName(accountId, "permissionPresets")),
    display_name: { column: "display_name", type: "string", folded: true },
    create_time: { column: "create_time", type: "timestamp" },
    update_time: { column: "update_time", type: "timestamp" },
  },
  order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
});

/** One page (AIP-158) of the account's presets matching `req.filter` (AIP-160: name, display_name, create_time, update_time). */
export function listPermissionPresetPage(db: Db, accountId: string, req: ListRequest): Promise<ListResult<PermissionPresetRow>> {
  return listPage<PermissionPresetRow>(db.selectFrom("permission_presets").where("account_id", "=", accountId), presetsTable(accountId), req);
}

export type PermissionPresetPatch = Partial<Pick<PermissionPresetRow, "display_name" | "actions">> & { update_time: number };

export async function updatePermissionPreset(db: Db, accountId: string, id: string, patch: PermissionPresetPatch): Promise<void> {
  await db
    .updateTable("permission_presets")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
}

export async function deletePermissionPreset(db: Db, accountId: string, id: string): Promise<void> {
  await db.deleteFrom("permission_presets").where("account_id", "=", accountId).where("id", "=", id).execute();
}

/** A principal holding a preset, as its webhook events name it. */
export type PresetHolder = Pick<UserRow, "account_id" | "id" | "email" | "role" | "permission_preset" | "service_account">;

/** The account's users and service accounts holding preset `id` (role `custom`), by id. */
export async function presetHolders(db: Db, accountId: string, id: string): Promise<PresetHolder[]> {
  return db
    .selectFrom("users")
    .select(["account_id", "id", "email", "role", "permission_preset", "service_account"])
    .where("account_id", "=", accountId)
    .where("role", "=", "custom")
    .where("permission_preset", "=", id)
    .orderBy("id")
    .execute();
}

/** The actions (JSON array) of the preset held by user `userId`, or undefined when it holds none that exists. */
export async function heldPresetActions(db: Db, accountId: string, userId: string): Promise<{ id: string; actions: string } | undefined> {
  return db
    .selectFrom("users")
    .innerJoin("permission_presets", (join) =>
      join.onRef("permission_presets.account_id", "=", "users.account_id").onRef("permission_presets.id", "=", "users.permission_preset"),
    )
    .select(["permission_presets.id as id", "permission_presets.actions as actions"])
    .where("users.account_id", "=", accountId)
    .where("users.id", "=", userId)
    .executeTakeFirst();
}
