import { invalidArgument, notFound } from "../domain/errors.ts";
import { checkId, isValidId } from "../domain/ids.ts";
import { collectionName, deploymentName, modelName, parseModelName } from "../domain/resource-names.ts";
import * as deployments from "../store/deployments.ts";
import type { ListRequest } from "../store/list.ts";
import { getModel } from "../store/models.ts";
import type { DeploymentRow } from "../store/platform-rows.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { checkBackend } from "./models.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { deploymentView } from "./platform-views.ts";
import { reserve } from "./quotas.ts";
import { authorize } from "./permissions.ts";
import { isCreator } from "../domain/roles.ts";

export interface DeploymentInput {
  displayName?: string | undefined;
  /** `accounts/{a}/models/{m}` (this account's or a public model), or a model id of this account. */
  baseModel?: string | undefined;
  /** Default (absent at creation, or empty): the model's own backend. */
  backend?: string | undefined;
}

/** The model a deployment serves, by full name, and the backend it lives on. */
async function resolveModel(deps: Deps, db: Db, accountId: string, text: string): Promise<{ name: string; backend: string }> {
  const ref = isValidId(text) ? { accountId, modelId: text } : parseModelName(text);
  if (!ref) throw invalidArgument(`invalid baseModel ${JSON.stringify(text)}: use accounts/{account}/models/{model}`);
  const { publicAccountId, publicModels } = deps.config.platform;
  const name = modelName(ref.accountId, ref.modelId);
  if (ref.accountId === publicAccountId) {
    const m = publicModels.get(ref.modelId);
    if (m) return { name, backend: m.backend };
  } else if (ref.accountId === accountId) {
    const row = await getModel(db, accountId, ref.modelId);
    if (row) return { name, backend: row.backend };
  }
  throw notFound(`model "${name}" not found`);
}

async function getDeploymentRow(db: Db, accountId: string, deploymentId: string): Promise<DeploymentRow> {
  const row = await deployments.getDeployment(db, accountId, deploymentId);
  if (!row) throw notFound(`deployment "${deploymentName(accountId, deploymentId)}" not found`);
  return row;
}

/** Probes the deployment's backend and records READY, or FAILED with the reason. */
async function probe(deps: Deps, row: DeploymentRow): Promise<DeploymentRow> {
  const backend = deps.config.platform.backends.get(row.backend);
  const failure = backend ? await deps.probeBackend(backend, deps.config.platform.probeTimeoutMs) : `backend "${row.backend}" is no longer configured`;
  const patch = { state: failure ? "FAILED" : "READY", status_message: failure ?? "", update_time: Date.now() };
  await deployments.updateDeployment(deps.store.db, row.account_id, row.id, patch);
  return { ...row, ...patch };
}

/**
 * Creates a deployment (quota "deployments", counted under the account lock), then probes its
 * backend outside the transaction: the answer is READY, or FAILED with the reason in status.message.
 */
export async function createDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string | undefined, input: DeploymentInput) {
  const op = { method: "CreateDeployment", resource: deploymentName(accountId, deploymentId ?? ""), payload: input };
  const created = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "deployments.create");
    if (!deploymentId) throw invalidArgument("deploymentId is required (?deploymentId=ID)");
    const id = checkId(deploymentId, "deploymentId");
    if (!input.baseModel) throw invalidArgument("baseModel is required, e.g. accounts/my-account/models/my-model");
    const model = await resolveModel(deps, trx, accountId, input.baseModel);
    const backend = checkBackend(deps, input.backend || model.backend);
    await reserve(deps, trx, accountId, "deployments", 1);
    const now = Date.now();
    const row: DeploymentRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName ?? ""),
      model: model.name,
      backend,
      state: "CREATING",
      status_message: "",
      created_by: ctx.principal.email,
      creator_uid: ctx.principal.uid,
      create_time: now,
      update_time: now,
    };
    await deployments.insertDeployment(trx, row);
    return row;
  });
  return deploymentView(await probe(deps, created));
}

export async function getDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string) {
  const op = { method: "GetDeployment", resource: deploymentName(accountId, deploymentId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "deployments.get");
    return deploymentView(await getDeploymentRow(deps.store.db, accountId, deploymentId));
  });
}

export async function listDeployments(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListDeployments", resource: collectionName(accountId, "deployments") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "deployments.list");
    const page = await deployments.listDeployments(deps.store.db, accountId, req);
    return { deployments: page.rows.map(deploymentView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/** Updates a deployment; a new model or backend, or a deployment that is not READY, is probed again. */
export async function updateDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string, input: DeploymentInput) {
  const op = { method: "UpdateDeployment", resource: deploymentName(accountId, deploymentId), payload: input };
  const updated = await audited(deps, ctx, op, async (trx) => {
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "deployments.manageOwn" : "deployments.manageOthers", own ? "update deployments" : "update deployments created by others");
    const patch: deployments.DeploymentPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName);
    if (input.baseModel !== undefined) {
      const model = await resolveModel(deps, trx, accountId, input.baseModel);
      patch.model = model.name;
      if (input.backend === undefined && model.name !== row.model) patch.backend = model.backend;
    }
    // An empty backend (cleared by an update mask) is the model's own, as at creation.
    if (input.backend === "") patch.backend = checkBackend(deps, (await resolveModel(deps, trx, accountId, patch.model ?? row.model)).backend);
    else if (input.backend !== undefined) patch.backend = checkBackend(deps, input.backend);
    const next: DeploymentRow = { ...row, ...patch, update_time: Date.now() };
    await deployments.updateDeployment(trx, accountId, deploymentId, { ...patch, update_time: next.update_time });
    return { next, reprobe: next.backend !== row.backend || next.model !== row.model || row.state !== "READY" };
  });
  return deploymentView(updated.reprobe ? await probe(deps, updated.next) : updated.next);
}

export async function deleteDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string): Promise<void> {
  const op = { method: "DeleteDeployment", resource: deploymentName(accountId, deploymentId) };
  await audited(deps, ctx, op, async (trx) => {
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "deployments.manageOwn" : "deployments.manageOthers", own ? "delete deployments" : "delete deployments created by others");
    await deployments.deleteDeployment(trx, accountId, deploymentId);
  });
}
