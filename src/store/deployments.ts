import { nameField } from "./filter-sql.ts";
import type { DeploymentRow } from "./platform-rows.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";

const DEPLOYMENT_STATES = ["CREATING", "READY", "FAILED", "DELETING", "DELETED"] as const;

export function getDeployment(db: Db, accountId: string, deploymentId: string): Promise<DeploymentRow | undefined> {
  return db.selectFrom("deployments").selectAll().where("account_id", "=", accountId).where("id", "=", deploymentId).executeTakeFirst();
}

export async function insertDeployment(db: Db, row: DeploymentRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("deployments")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `deployment "${row.id}" already exists`,
  );
}

export type DeploymentPatch = Partial<Pick<DeploymentRow, "display_name" | "model" | "backend" | "state" | "status_message">>;

export async function updateDeployment(db: Db, accountId: string, deploymentId: string, patch: DeploymentPatch & { update_time: number }): Promise<void> {
  await db
    .updateTable("deployments")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", deploymentId)
    .execute();
}

export async function deleteDeployment(db: Db, accountId: string, deploymentId: string): Promise<void> {
  await db.deleteFrom("deployments").where("account_id", "=", accountId).where("id", "=", deploymentId).execute();
}

export async function countDeployments(db: Db, accountId: string): Promise<number> {
  const r = await db
    .selectFrom("deployments")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("account_id", "=", accountId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

function deploymentsTable(accountId: string): ListTable {
  return {
    fields: {
      name: nameField(collectionName(accountId, "deployments")),
      deployment_id: { column: "id", type: "string" },
      display_name: { column: "display_name", type: "string", folded: true },
      base_model: { column: "model", type: "string" },
      backend: { column: "backend", type: "string" },
      state: { column: "state", type: "enum", values: DEPLOYMENT_STATES },
      created_by: { column: "created_by", type: "string", normalize: (v) => v.toLowerCase() },
      create_time: { column: "create_time", type: "timestamp" },
      update_time: { column: "update_time", type: "timestamp" },
    },
    order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time", state: "state" },
    defaultOrderBy: "name",
    idColumn: "id",
  };
}

export function listDeployments(db: Db, accountId: string, req: ListRequest): Promise<ListResult<DeploymentRow>> {
  return listPage<DeploymentRow>(db.selectFrom("deployments").where("account_id", "=", accountId), deploymentsTable(accountId), req);
}
