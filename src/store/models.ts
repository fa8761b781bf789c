import { nameField, type FieldTable } from "./filter-sql.ts";
import type { ModelRow } from "./platform-rows.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";

export function getModel(db: Db, accountId: string, modelId: string): Promise<ModelRow | undefined> {
  return db.selectFrom("models").selectAll().where("account_id", "=", accountId).where("id", "=", modelId).executeTakeFirst();
}

export async function insertModel(db: Db, row: ModelRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("models")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `model "${row.id}" already exists`,
  );
}

export type ModelPatch = Partial<Pick<ModelRow, "display_name" | "description" | "backend" | "upstream_model" | "input_price" | "output_price">>;

export async function updateModel(db: Db, accountId: string, modelId: string, patch: ModelPatch & { update_time: number }): Promise<void> {
  await db
    .updateTable("models")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", modelId)
    .execute();
}

export async function deleteModel(db: Db, accountId: string, modelId: string): Promise<void> {
  await db.deleteFrom("models").where("account_id", "=", accountId).where("id", "=", modelId).execute();
}

/**
 * The filter fields (AIP-160) every model has, an account's or the public catalogue's
 * (store/public-models.ts): `name` (an id or `accounts/{accountId}/models/{id}`), `model_id`,
 * `display_name` (`:` folds any script), `backend` and `upstream_model`.
 */
export function modelFilterFields(accountId: string): FieldTable {
  return {
    name: nameField(collectionName(accountId, "models")),
    model_id: { column: "id", type: "string" },
    display_name: { column: "display_name", type: "string", folded: true },
    backend: { column: "backend", type: "string" },
    upstream_model: { column: "upstream_model", type: "string" },
  };
}

function modelsTable(accountId: string): ListTable {
  return {
    fields: {
      ...modelFilterFields(accountId),
      created_by: { column: "created_by", type: "string", normalize: (v) => v.toLowerCase() },
      create_time: { column: "create_time", type: "timestamp" },
      update_time: { column: "update_time", type: "timestamp" },
    },
    order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
    defaultOrderBy: "name",
    idColumn: "id",
  };
}

export function listModels(db: Db, accountId: string, req: ListRequest): Promise<ListResult<ModelRow>> {
  return listPage<ModelRow>(db.selectFrom("models").where("account_id", "=", accountId), modelsTable(accountId), req);
}

/** Every model of the account (its id and creation time), by id: what the inference gateway lists. */
export function modelIdsOf(db: Db, accountId: string): Promise<Array<Pick<ModelRow, "id" | "create_time">>> {
  return db.selectFrom("models").select(["id", "create_time"]).where("account_id", "=", accountId).orderBy("id").execute();
}

/** How many live (not deleted) deployments of the account use a model (a model in use cannot be deleted). */
export async function countDeploymentsOfModel(db: Db, accountId: string, model: string): Promise<number> {
  const r = await db
    .selectFrom("deployments")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("account_id", "=", accountId)
    .where("model", "=", model)
    .where("delete_time", "is", null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
