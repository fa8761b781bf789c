import { quoted } from "../domain/display-text.ts";
import { randomBytes } from "node:crypto";
import { alreadyExists, ApiError, failedPrecondition, invalidArgument, notFound, permissionDenied } from "../domain/errors.ts";
import { modelAllowed } from "../domain/api-key-restrictions.ts";
import { checkReplicaCount, clampReplicaCount, replicaBounds } from "../domain/deployment-spec.ts";
import { applyAutoscalingPatch, type AutoscalingPolicy, type LoadTargetKey } from "../domain/autoscaling-policy.ts";
import { applyDeploymentOptions, DEPLOYMENT_OPTION_FIELDS, type DeploymentOptions, type DeploymentOptionsPatch } from "../domain/deployment-options.ts";
import { checkId, isValidId } from "../domain/ids.ts";
import { collectionName, deploymentName, modelName, parseModelName } from "../domain/resource-names.ts";
import * as deployments from "../store/deployments.ts";
import { lockAccount } from "../store/accounts.ts";
import type { ListRequest } from "../store/list.ts";
import { getModel } from "../store/models.ts";
import type { DeploymentRow } from "../store/platform-rows.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { checkBackend, unservedUpstreamModel } from "./models.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { deploymentView } from "./platform-views.ts";
import { checkQuotaRoom, readQuotaUse, reserve } from "./quotas.ts";
import { authorize } from "./permissions.ts";
import { isCreator } from "../domain/roles.ts";

/**
 * A deployment's writable fields (Fireworks' Deployment names); absent: unchanged (update) or the
 * default (create). The serving options (DeploymentOptionsPatch): an unset value clears one.
 */
export interface DeploymentInput extends DeploymentOptionsPatch {
  displayName?: string | undefined;
  /** `accounts/{a}/models/{m}` (this account's or a public model), or a model id of this account. */
  baseModel?: string | undefined;
  /** Default (absent at creation, or empty): the model's own backend. */
  backend?: string | undefined;
  description?: string | undefined;
  annotations?: Record<string, string> | undefined;
  /** Default 0. */
  minReplicaCount?: number | undefined;
  /** Default (absent at creation, or null: cleared by an update mask): max(minReplicaCount, 1). */
  maxReplicaCount?: number | null | undefined;
  /** One of ACCELERATOR_TYPES; "" clears it. */
  acceleratorType?: string | undefined;
  /** Accelerators per replica; 0 clears it. */
  acceleratorCount?: number | undefined;
  deploymentShape?: string | undefined;
  /** Windows in milliseconds; a field null (cleared by an update mask) is back to its default. */
  autoscalingPolicy?:
    | {
        scaleUpWindow?: number | null | undefined;
        scaleDownWindow?: number | null | undefined;
        scaleToZeroWindow?: number | null | undefined;
        loadTargets?: Partial<Record<LoadTargetKey, number>> | null | undefined;
      }
    | undefined;
}

/** The policy `input` asks for, applied to `current` (a create's: `{}`) and checked, as stored JSON. */
function autoscalingPolicyOf(current: string, input: DeploymentInput["autoscalingPolicy"]): string {
  const asked = input ?? {};
  return JSON.stringify(
    applyAutoscalingPatch(JSON.parse(current) as AutoscalingPolicy, {
      scaleUpWindowMs: asked.scaleUpWindow,
      scaleDownWindowMs: asked.scaleDownWindow,
      scaleToZeroWindowMs: asked.scaleToZeroWindow,
      loadTargets: asked.loadTargets,
    }),
  );
}

/**
 * The serving options `input` asks for, applied to `current` (stored JSON; a create's: `{}`) and
 * checked (domain/deployment-options.ts), as stored JSON. A draftModel is resolved as baseModel is
 * (an id: this account's model of that id, else the public one; firectl's `--draft-model` doc).
 * @throws INVALID_ARGUMENT, NOT_FOUND, each naming draftModel for the draft model.
 */
async function servingOptionsOf(deps: Deps, db: Db, accountId: string, current: string, input: DeploymentInput): Promise<string> {
  const patch: Record<string, unknown> = Object.fromEntries(DEPLOYMENT_OPTION_FIELDS.map((field) => [field, input[field]]));
  const draft = input.draftModel;
  if (draft) {
    if (!isValidId(draft) && !parseModelName(draft))
      throw invalidArgument(`invalid draftModel ${quoted(draft)}: use a model id or accounts/{account}/models/{model}`);
    patch.draftModel = (
      await resolveModel(deps, db, accountId, draft).catch((error: unknown) => {
        throw error instanceof ApiError ? new ApiError(error.status, `draftModel ${JSON.stringify(draft)}: ${error.message}`) : error;
      })
    ).name;
  }
  return JSON.stringify(applyDeploymentOptions(JSON.parse(current) as DeploymentOptions, patch as DeploymentOptionsPatch));
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Purges the account's deployments deleted more than HEARTH_DELETED_RETENTION_DAYS ago, before a
 * read could show one (get, list with showDeleted) or a create or undelete could meet one.
 */
async function purgeExpired(deps: Deps, db: Db, accountId: string): Promise<void> {
  await deployments.purgeDeletedDeployments(db, accountId, Date.now() - deps.config.deletedRetentionDays * DAY_MS);
}

const view = (deps: Deps, row: DeploymentRow) => deploymentView(row, deps.config.deletedRetentionDays);

/** Who may change a deployment: its creator (manageOwn), anyone else with manageOthers; `verb` names the refused change. */
function authorizeChange(ctx: Ctx, row: DeploymentRow, verb: string): void {
  const own = isCreator(ctx.principal.uid, row.creator_uid);
  authorize(ctx, own ? "deployments.manageOwn" : "deployments.manageOthers", own ? `${verb} deployments` : `${verb} deployments created by others`);
}

/** A deleted deployment takes no change but undelete (or a hard delete). */
function checkLive(row: DeploymentRow): void {
  if (row.delete_time !== null)
    throw failedPrecondition(`deployment "${deploymentName(row.account_id, row.id)}" is ${row.state}; undelete it first (:undelete)`);
}

/** A deployment's model: its name, its own backend and, for the account's own model, the upstream model it names. */
interface DeployedModel {
  name: string;
  backend: string;
  upstreamModel?: string;
}

/**
 * The model a deployment serves, by name (`accounts/{a}/models/{m}`: this account's or the public
 * account's) or by bare id: this account's model of that id, else the public model of that id, as
 * Fireworks' examples deploy `falcon-7b` for `accounts/fireworks/models/falcon-7b`.
 * @throws INVALID_ARGUMENT (not a model name), NOT_FOUND naming where it was looked for.
 */
async function resolveModel(deps: Deps, db: Db, accountId: string, text: string): Promise<DeployedModel> {
  const { publicAccountId, publicModels } = deps.config.platform;
  if (isValidId(text)) {
    const own = await getModel(db, accountId, text);
    if (own) return { name: modelName(accountId, text), backend: own.backend, upstreamModel: own.upstream_model };
    const shared = publicModels.get(text);
    if (shared) return { name: modelName(publicAccountId, text), backend: shared.backend };
    throw notFound(`model "${text}" not found: neither ${modelName(accountId, text)} nor ${modelName(publicAccountId, text)} exists`);
  }
  const ref = parseModelName(text);
  if (!ref) throw invalidArgument(`invalid baseModel ${quoted(text)}: use accounts/{account}/models/{model}`);
  const name = modelName(ref.accountId, ref.modelId);
  if (ref.accountId === publicAccountId) {
    const m = publicModels.get(ref.modelId);
    if (m) return { name, backend: m.backend };
  } else if (ref.accountId === accountId) {
    const row = await getModel(db, accountId, ref.modelId);
    if (row) return { name, backend: row.backend, upstreamModel: row.upstream_model };
  }
  throw notFound(`model "${name}" not found`);
}

/**
 * Through an API key limited to `allowedModels`, a deployment is made to serve only a model the key
 * may call by the model's own name: the key calls the deployments its list names whatever they
 * serve, so pointing one at another model would call that model (docs/key-policies.md).
 * @throws PERMISSION_DENIED naming the model and the key's list.
 */
function requireKeyMayServe(ctx: Ctx, model: string): void {
  const allowed = ctx.principal.restrictions?.allowedModels;
  if (allowed === undefined || modelAllowed(allowed, [model])) return;
  throw permissionDenied(
    `${model} is not among this API key's allowedModels (${allowed.join(", ")}): a deployment made or changed through it serves only models it may call`,
  );
}

/**
 * `backendName` (checked: configured) when it may serve `model`: an account's own model runs on
 * another backend than its own only where that backend's `accountUpstreamModels` allow its upstream
 * model for the account, as on its own (src/service/models.ts). A public model runs anywhere, at its
 * own prices.
 * @throws INVALID_ARGUMENT naming the backend and its rule.
 */
function checkDeploymentBackend(deps: Deps, accountId: string, model: DeployedModel, backendName: string): string {
  checkBackend(deps, backendName);
  const unserved = model.upstreamModel === undefined ? undefined : unservedUpstreamModel(deps, accountId, backendName, model.upstreamModel);
  if (unserved)
    throw invalidArgument(`invalid backend "${backendName}" for ${model.name}, whose upstreamModel is ${JSON.stringify(model.upstreamModel)}: ${unserved}`);
  return backendName;
}

async function getDeploymentRow(db: Db, accountId: string, deploymentId: string): Promise<DeploymentRow> {
  const row = await deployments.getDeployment(db, accountId, deploymentId);
  if (!row) throw notFound(`deployment "${deploymentName(accountId, deploymentId)}" not found`);
  return row;
}

/**
 * Asks backend `backendName` whether it answers (its readiness probe, within the deployments'
 * `probeTimeoutMs`): undefined when it does, else why not (a backend no longer configured included).
 */
export async function probeBackendNamed(deps: Deps, backendName: string): Promise<string | undefined> {
  const backend = deps.config.platform.backends.get(backendName);
  return backend ? deps.probeBackend(backend, deps.config.platform.probeTimeoutMs) : `backend "${backendName}" is no longer configured`;
}

/**
 * Records a probe's answer on deployment `row` (`failure` undefined: its backend answered): READY,
 * or FAILED with the reason, unless the deployment was deleted or moved to another model or backend
 * while the probe ran (outside any transaction): that change wins. Every process's gateway drops the
 * account's cached state once it is recorded.
 * @returns the deployment as recorded; undefined when a change made meanwhile won.
 */
export async function recordProbeAnswer(deps: Deps, row: DeploymentRow, failure: string | undefined): Promise<DeploymentRow | undefined> {
  const patch = { state: failure ? "FAILED" : "READY", status_message: failure ?? "", update_time: Date.now() };
  if (!(await deployments.recordProbe(deps.store.db, row, patch))) return undefined;
  await deps.cluster.invalidator.account(row.account_id);
  return { ...row, ...patch };
}

/** Probes the deployment's backend and records the answer (`recordProbeAnswer`); a change that won meanwhile is answered as it is now. */
async function probe(deps: Deps, row: DeploymentRow): Promise<DeploymentRow> {
  const recorded = await recordProbeAnswer(deps, row, await probeBackendNamed(deps, row.backend));
  return recorded ?? (await deployments.getDeployment(deps.store.db, row.account_id, row.id)) ?? row;
}

/**
 * CreateDeployment (Fireworks' `POST /v1/accounts/{a}/deployments?deploymentId=`): a deployment of
 * `input.baseModel` (quota "deployments", counted under the account lock), then its backend probed
 * outside the transaction: the answer is READY, or FAILED with the reason in status.message.
 * Without a `deploymentId`, one is generated (`deployment-` and 10 hex digits). An id stays taken
 * while its deployment is deleted, until purged. With `validateOnly`
 * (the SDK's `validate_only`: "will not create the deployment, but will return the deployment that
 * would be created"), every check runs (role, id, model, backend, replica bounds, an existing
 * deployment, the `deployments` quota) and nothing is stored: the answer is the deployment as it
 * would be created, CREATING and not probed; a refusal is audited, a success is not (nothing changed).
 *
 * @throws INVALID_ARGUMENT, NOT_FOUND (model), ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED.
 */
export async function createDeployment(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  deploymentId: string | undefined,
  input: DeploymentInput,
  validateOnly = false,
) {
  const generatedId = `deployment-${randomBytes(5).toString("hex")}`;
  const op = { method: "CreateDeployment", resource: deploymentName(accountId, deploymentId || generatedId), payload: input };
  const plan = async (trx: Db): Promise<DeploymentRow> => {
    authorize(ctx, "deployments.create");
    // Fireworks: "If not specified, a random ID is generated."
    const id = deploymentId === undefined || deploymentId === "" ? generatedId : checkId(deploymentId, "deploymentId");
    if (!input.baseModel) throw invalidArgument("baseModel is required, e.g. accounts/my-account/models/my-model");
    const model = await resolveModel(deps, trx, accountId, input.baseModel);
    requireKeyMayServe(ctx, model.name);
    const backend = checkDeploymentBackend(deps, accountId, model, input.backend || model.backend);
    const bounds = replicaBounds(input.minReplicaCount, input.maxReplicaCount ?? undefined);
    const now = Date.now();
    return {
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
      min_replica_count: bounds.min,
      max_replica_count: bounds.max,
      replica_count: bounds.min,
      accelerator_type: input.acceleratorType ?? "",
      accelerator_count: input.acceleratorCount ?? 0,
      deployment_shape: input.deploymentShape ?? "",
      description: input.description ?? "",
      annotations: JSON.stringify(input.annotations ?? {}),
      autoscaling_policy: autoscalingPolicyOf("{}", input.autoscalingPolicy),
      serving_options: await servingOptionsOf(deps, trx, accountId, "{}", input),
      delete_time: null,
    };
  };
  /** An existing deployment of that id: refused, as the insert would be. */
  const refuseExisting = (existing: DeploymentRow | undefined, id: string) => {
    if (existing && existing.delete_time !== null)
      throw alreadyExists(`deployment "${deploymentName(accountId, id)}" is deleted but not yet purged: undelete it, or purge it with ?hard=true`);
    if (existing) throw alreadyExists(`deployment "${id}" already exists`);
  };
  if (validateOnly) {
    return auditRefusals(ctx, op, async () => {
      const db = deps.store.db;
      const row = await plan(db);
      const existing = await deployments.getDeployment(db, accountId, row.id);
      // One deleted longer ago than the retention would be purged by the create.
      if (!(existing?.delete_time != null && existing.delete_time < Date.now() - deps.config.deletedRetentionDays * DAY_MS)) refuseExisting(existing, row.id);
      checkQuotaRoom(await readQuotaUse(deps, db, accountId, "deployments"), 1);
      return view(deps, row);
    });
  }
  const created = await audited(deps, ctx, op, async (trx) => {
    // Locked before the model is read, as a model's deletion locks before it counts its deployments:
    // no deployment of a model deleted meanwhile (which a model made later under its id would take over).
    await lockAccount(deps.store, trx, accountId);
    const row = await plan(trx);
    await purgeExpired(deps, trx, accountId);
    const existing = await deployments.getDeployment(trx, accountId, row.id);
    refuseExisting(existing, row.id);
    await reserve(deps, trx, accountId, "deployments", 1);
    await deployments.insertDeployment(trx, row);
    return row;
  });
  return view(deps, await probe(deps, created));
}

export async function getDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string) {
  const op = { method: "GetDeployment", resource: deploymentName(accountId, deploymentId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "deployments.get");
    const row = await getDeploymentRow(deps.store.db, accountId, deploymentId);
    if (row.delete_time !== null && row.delete_time < Date.now() - deps.config.deletedRetentionDays * DAY_MS) {
      await purgeExpired(deps, deps.store.db, accountId);
      throw notFound(`deployment "${deploymentName(accountId, deploymentId)}" not found`);
    }
    return view(deps, row);
  });
}

/** The account's deployments; deleted ones (until purged) only with `showDeleted` (Fireworks' ListDeployments). */
export async function listDeployments(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest, showDeleted = false) {
  const op = { method: "ListDeployments", resource: collectionName(accountId, "deployments") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "deployments.list");
    if (showDeleted) await purgeExpired(deps, deps.store.db, accountId);
    const page = await deployments.listDeployments(deps.store.db, accountId, req, showDeleted);
    return { deployments: page.rows.map((row) => view(deps, row)), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/**
 * Updates a deployment; a new model or backend, or a deployment that is not READY, is probed again.
 * New replica bounds carry `replicaCount` into them. A deleted deployment is refused (FAILED_PRECONDITION).
 */
export async function updateDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string, input: DeploymentInput) {
  const op = { method: "UpdateDeployment", resource: deploymentName(accountId, deploymentId), payload: input };
  const updated = await audited(deps, ctx, op, async (trx) => {
    // Locked before the row is read (as a create reserving quota locks): a concurrent deletion is then a 404, never a success that changed nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    authorizeChange(ctx, row, "update");
    checkLive(row);
    const patch: deployments.DeploymentPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName);
    if (input.baseModel !== undefined || input.backend !== undefined) {
      const model = await resolveModel(deps, trx, accountId, input.baseModel ?? row.model);
      if (input.baseModel !== undefined) {
        if (model.name !== row.model) requireKeyMayServe(ctx, model.name);
        patch.model = model.name;
        if (input.backend === undefined && model.name !== row.model) patch.backend = model.backend;
      }
      // An empty backend (cleared by an update mask) is the model's own, as at creation.
      if (input.backend !== undefined) patch.backend = input.backend === "" ? model.backend : input.backend;
      checkDeploymentBackend(deps, accountId, model, patch.backend ?? row.backend);
    }
    if (input.description !== undefined) patch.description = input.description;
    if (input.annotations !== undefined) patch.annotations = JSON.stringify(input.annotations);
    if (input.acceleratorType !== undefined) patch.accelerator_type = input.acceleratorType;
    if (input.acceleratorCount !== undefined) patch.accelerator_count = input.acceleratorCount;
    if (input.deploymentShape !== undefined) patch.deployment_shape = input.deploymentShape;
    if (input.autoscalingPolicy !== undefined) patch.autoscaling_policy = autoscalingPolicyOf(row.autoscaling_policy, input.autoscalingPolicy);
    if (DEPLOYMENT_OPTION_FIELDS.some((field) => input[field] !== undefined))
      patch.serving_options = await servingOptionsOf(deps, trx, accountId, row.serving_options, input);
    if (input.minReplicaCount !== undefined || input.maxReplicaCount !== undefined) {
      const min = input.minReplicaCount ?? row.min_replica_count;
      const bounds = replicaBounds(min, input.maxReplicaCount === null ? undefined : (input.maxReplicaCount ?? row.max_replica_count));
      patch.min_replica_count = bounds.min;
      patch.max_replica_count = bounds.max;
      patch.replica_count = clampReplicaCount(row.replica_count, bounds);
    }
    const next: DeploymentRow = { ...row, ...patch, update_time: Date.now() };
    await deployments.updateDeployment(trx, accountId, deploymentId, { ...patch, update_time: next.update_time });
    return { next, reprobe: next.backend !== row.backend || next.model !== row.model || row.state !== "READY" };
  });
  if (!updated.reprobe) await deps.cluster.invalidator.account(accountId);
  return view(deps, updated.reprobe ? await probe(deps, updated.next) : updated.next);
}

/**
 * Sets the replica count a deployment asks for (Fireworks ScaleDeployment, `:scale`), within its
 * [minReplicaCount, maxReplicaCount]. Desired state only: Hearth serves through the backend either way.
 */
export async function scaleDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string, replicaCount: number) {
  const op = { method: "ScaleDeployment", resource: deploymentName(accountId, deploymentId), payload: { replicaCount } };
  return audited(deps, ctx, op, async (trx) => {
    await lockAccount(deps.store, trx, accountId);
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    authorizeChange(ctx, row, "scale");
    checkLive(row);
    const count = checkReplicaCount(replicaCount, { min: row.min_replica_count, max: row.max_replica_count });
    const patch = { replica_count: count, update_time: Date.now() };
    await deployments.updateDeployment(trx, accountId, deploymentId, patch);
    return view(deps, { ...row, ...patch });
  });
}

/**
 * Deletes a deployment. Soft by default (Fireworks' DeleteDeployment): DELETING, then DELETED; it
 * serves nothing, no longer counts toward the "deployments" quota, keeps its id, and can be
 * undeleted until purged HEARTH_DELETED_RETENTION_DAYS later. `hard`: removed at once (also a deleted one).
 */
export async function deleteDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string, hard = false): Promise<void> {
  const op = { method: "DeleteDeployment", resource: deploymentName(accountId, deploymentId), payload: { hard } };
  const deleteTime = await audited(deps, ctx, op, async (trx) => {
    await lockAccount(deps.store, trx, accountId);
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    authorizeChange(ctx, row, "delete");
    if (hard) {
      await deployments.deleteDeployment(trx, accountId, deploymentId);
      return undefined;
    }
    if (row.delete_time !== null)
      throw failedPrecondition(`deployment "${deploymentName(accountId, deploymentId)}" is already deleted; purge it with ?hard=true`);
    const now = Date.now();
    await deployments.updateDeployment(trx, accountId, deploymentId, { state: "DELETING", status_message: "", delete_time: now, update_time: now });
    return now;
  });
  // No replica runs here, so nothing remains to release: the deletion completes at once (unless undeleted meanwhile).
  if (deleteTime !== undefined) await deployments.completeDeletion(deps.store.db, accountId, deploymentId, deleteTime, Date.now());
  await deps.cluster.invalidator.account(accountId);
}

/**
 * Restores a deleted deployment (Fireworks' UndeleteDeployment, `:undelete`) before it is purged:
 * it counts toward the "deployments" quota again, and its model and backend are checked and probed
 * as at creation (READY, or FAILED with the reason).
 */
export async function undeleteDeployment(deps: Deps, ctx: Ctx, accountId: string, deploymentId: string) {
  const op = { method: "UndeleteDeployment", resource: deploymentName(accountId, deploymentId) };
  const restored = await audited(deps, ctx, op, async (trx) => {
    await lockAccount(deps.store, trx, accountId);
    await purgeExpired(deps, trx, accountId);
    const row = await getDeploymentRow(trx, accountId, deploymentId);
    authorizeChange(ctx, row, "undelete");
    if (row.delete_time === null) throw failedPrecondition(`deployment "${deploymentName(accountId, deploymentId)}" is not deleted`);
    // Bringing one back is making it serve its model again, as a create would.
    requireKeyMayServe(ctx, row.model);
    await resolveModel(deps, trx, accountId, row.model).catch(() => {
      throw failedPrecondition(`deployment "${deploymentName(accountId, deploymentId)}" serves ${row.model}, which no longer exists`);
    });
    await reserve(deps, trx, accountId, "deployments", 1);
    const patch = { state: "CREATING", status_message: "", delete_time: null, update_time: Date.now() };
    await deployments.updateDeployment(trx, accountId, deploymentId, patch);
    return { ...row, ...patch };
  });
  return view(deps, await probe(deps, restored));
}
