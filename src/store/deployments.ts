import { nameField } from "./filter-sql.ts";
import type { DeploymentRow } from "./platform-rows.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";
import { ACCELERATOR_TYPES } from "../domain/deployment-spec.ts";

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

export type DeploymentPatch = Partial<Omit<DeploymentRow, "account_id" | "id" | "created_by" | "creator_uid" | "create_time" | "update_time">>;

export async function updateDeployment(db: Db, accountId: string, deploymentId: string, patch: DeploymentPatch & { update_time: number }): Promise<void> {
  await db
    .updateTable("deployments")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", deploymentId)
    .execute();
}

/**
 * Records a probe's answer (`patch`: state, status message) on the deployment `probed`, only while it
 * is still that deployment: not deleted, and serving the same model on the same backend. A deletion
 * or an update that committed while the probe ran wins. Returns whether it was recorded.
 */
export async function recordProbe(
  db: Db,
  probed: Pick<DeploymentRow, "account_id" | "id" | "model" | "backend">,
  patch: DeploymentPatch & { update_time: number },
): Promise<boolean> {
  const result = await db
    .updateTable("deployments")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", probed.account_id)
    .where("id", "=", probed.id)
    .where("delete_time", "is", null)
    .where("model", "=", probed.model)
    .where("backend", "=", probed.backend)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Up to `limit` live deployments in state FAILED, of every account, the longest-failed first: those the recovery probes again. */
export function failedDeployments(db: Db, limit: number): Promise<DeploymentRow[]> {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("state", "=", "FAILED")
    .where("delete_time", "is", null)
    .orderBy("update_time")
    .orderBy("account_id")
    .orderBy("id")
    .limit(limit)
    .execute();
}

/**
 * Completes a soft deletion (DELETING to DELETED) made at `deleteTime`, unless the deployment was
 * undeleted (or deleted again) since.
 */
export async function completeDeletion(db: Db, accountId: string, deploymentId: string, deleteTime: number, updateTime: number): Promise<void> {
  await db
    .updateTable("deployments")
    .set({ state: "DELETED", update_time: updateTime })
    .where("account_id", "=", accountId)
    .where("id", "=", deploymentId)
    .where("delete_time", "=", deleteTime)
    .execute();
}

/** Removes a deployment row for good (a hard delete, or a purge). */
export async function deleteDeployment(db: Db, accountId: string, deploymentId: string): Promise<void> {
  await db.deleteFrom("deployments").where("account_id", "=", accountId).where("id", "=", deploymentId).execute();
}

/** Purges the account's deployments soft-deleted before `cutoff` (epoch ms): their ids become free. */
export async function purgeDeletedDeployments(db: Db, accountId: string, cutoff: number): Promise<void> {
  await db.deleteFrom("deployments").where("account_id", "=", accountId).where("delete_time", "<", cutoff).execute();
}

/** The account's deployments that are not deleted (what the "deployments" quota counts). */
export async function countDeployments(db: Db, accountId: string): Promise<number> {
  const r = await db
    .selectFrom("deployments")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("account_id", "=", accountId)
    .where("delete_time", "is", null)
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
      accelerator_type: { column: "accelerator_type", type: "enum", values: ACCELERATOR_TYPES },
      deployment_shape: { column: "deployment_shape", type: "string" },
      created_by: { column: "created_by", type: "string", normalize: (v) => v.toLowerCase() },
      create_time: { column: "create_time", type: "timestamp" },
      update_time: { column: "update_time", type: "timestamp" },
    },
    order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time", state: "state" },
    // Fireworks' ListDeployments: "If not specified, the default order is by create_time"
    // (python-sdk src/fireworks/types/deployment_list_params.py); its other lists default to name.
    defaultOrderBy: "create_time",
    idColumn: "id",
  };
}

/** A page of the account's deployments; soft-deleted ones only with `showDeleted`. */
export function listDeployments(db: Db, accountId: string, req: ListRequest, showDeleted: boolean): Promise<ListResult<DeploymentRow>> {
  const rows = db.selectFrom("deployments").where("account_id", "=", accountId);
  return listPage<DeploymentRow>(showDeleted ? rows : rows.where("delete_time", "is", null), deploymentsTable(accountId), req);
}
