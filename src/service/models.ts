import { quoted } from "../domain/display-text.ts";
import { failedPrecondition, invalidArgument, notFound, permissionDenied } from "../domain/errors.ts";
import { checkId } from "../domain/ids.ts";
import { modelAllowed } from "../domain/api-key-restrictions.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { collectionName, modelName } from "../domain/resource-names.ts";
import type { ListRequest } from "../store/list.ts";
import * as models from "../store/models.ts";
import { lockAccount } from "../store/accounts.ts";
import { listPublicModelIds } from "../store/public-models.ts";
import type { ModelRow } from "../store/platform-rows.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";
import { createWithinQuota } from "./quotas.ts";
import { modelView, publicModelView, type Model } from "./platform-views.ts";
import { isCreator } from "../domain/roles.ts";
import { mayServeAccountModel } from "../platform-config.ts";

export interface ModelInput {
  displayName?: string | undefined;
  description?: string | undefined;
  backend?: string | undefined;
  upstreamModel?: string | undefined;
  inputPricePerMillionTokens?: number | undefined;
  outputPricePerMillionTokens?: number | undefined;
}

/** A backend the operator declared; an unknown one is INVALID_ARGUMENT listing the known ones. */
export function checkBackend(deps: Deps, name: string): string {
  if (!deps.config.platform.backends.has(name)) {
    const known = [...deps.config.platform.backends.keys()];
    throw invalidArgument(
      `unknown backend ${JSON.stringify(name)} (${known.length ? `backends: ${known.join(", ")}` : "no backends are configured in HEARTH_CONFIG"})`,
    );
  }
  return name;
}

/**
 * Why backend `backendName` (configured) may not serve an account's own model naming `upstreamModel`
 * — `backend "b" serves this account's models only as "acme/*"`, its `accountUpstreamModels` for
 * the account — or undefined when it may (`mayServeAccountModel`). The rule holds on whichever
 * backend serves the model: its own, or a deployment's.
 */
export function unservedUpstreamModel(deps: Deps, accountId: string, backendName: string, upstreamModel: string): string | undefined {
  const backend = deps.config.platform.backends.get(backendName)!;
  if (mayServeAccountModel(backend, accountId, upstreamModel)) return undefined;
  const patterns = backend.accountUpstreamModels.map((p) => JSON.stringify(p.replaceAll("{account}", accountId))).join(", ");
  return `backend "${backendName}" serves this account's models only as ${patterns}`;
}

/**
 * The upstream model an account's own model names on `backendName` (`requested`, else the model's id):
 * one the backend's `accountUpstreamModels` allow for the account (`unservedUpstreamModel`).
 * @throws INVALID_ARGUMENT naming the backend's patterns.
 */
function checkUpstreamModel(deps: Deps, accountId: string, backendName: string, upstreamModel: string): string {
  const unserved = unservedUpstreamModel(deps, accountId, backendName, upstreamModel);
  if (unserved) throw invalidArgument(`invalid upstreamModel ${quoted(upstreamModel)}: ${unserved}`);
  return upstreamModel;
}

function checkPrice(value: number | undefined, what: string): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value < 0 || value > 1_000_000)) {
    throw invalidArgument(`${what} must be a number from 0 to 1000000 (USD per million tokens)`);
  }
  return value;
}

/**
 * Through an API key with a `monthlySpendUsd` (its own or one it shares), a model's prices are not
 * the key's to choose: they decide what that limit counts, so a model the key priced, or a price it
 * lowered, would let it spend past the limit it was given (docs/key-policies.md: a key never does
 * more than the key it acts through). So is what the model runs on (its backend and upstream model),
 * which the prices pay for. Raising a price is allowed; so is anything through a key without one,
 * or a console session.
 * @param change what the refusal names, e.g. `create models` or `lower inputPricePerMillionTokens of model "m" from 2 to 0`.
 * @throws PERMISSION_DENIED naming the key's limit.
 */
function requireNotPricedBySpendLimitedKey(ctx: Ctx, change: string): void {
  const limit = ctx.principal.restrictions?.monthlySpendUsd;
  if (limit === undefined) return;
  throw permissionDenied(
    `this API key has a monthlySpendUsd of ${limit}, so it cannot ${change}: a model's prices decide what that limit counts; use a key without one or a console session`,
  );
}

/**
 * Through an API key limited to `allowedModels`, what a model runs on (its backend and upstream
 * model) is not chosen: the key calls the models its list names whatever they run on, so moving one
 * onto another upstream (a priced public model's, say), or creating one there that a pattern of its
 * list (`accounts/{a}/models/*`) admits, would call that, as re-pointing a deployment would
 * (docs/key-policies.md).
 * @param change what the refusal names, e.g. `change upstreamModel of model "m" from "a" to "b"`.
 * @param why why it is refused; default: the models it may call would call another upstream.
 * @throws PERMISSION_DENIED naming the key's list.
 */
function requireNotMovedByModelLimitedKey(ctx: Ctx, change: string, why = "the models it may call would call another upstream"): void {
  const allowed = ctx.principal.restrictions?.allowedModels;
  if (allowed === undefined) return;
  throw permissionDenied(
    `this API key is limited to allowedModels (${allowed.join(", ")}), so it cannot ${change}: ${why}; use a key without allowedModels or a console session`,
  );
}

async function getModelRow(db: Db, accountId: string, modelId: string): Promise<ModelRow> {
  const row = await models.getModel(db, accountId, modelId);
  if (!row) throw notFound(`model "${modelName(accountId, modelId)}" not found`);
  return row;
}

export async function createModel(deps: Deps, ctx: Ctx, accountId: string, modelId: string | undefined, input: ModelInput): Promise<Model> {
  const op = { method: "CreateModel", resource: modelName(accountId, modelId ?? ""), payload: input };
  const created = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "models.create");
    requireNotPricedBySpendLimitedKey(ctx, "create models");
    if (!modelId) throw invalidArgument("modelId is required (?modelId=ID)");
    const id = checkId(modelId, "modelId");
    // A model its list admits (by a pattern such as `accounts/{a}/models/*`) it could call at once; one it does not, never.
    const allowed = ctx.principal.restrictions?.allowedModels;
    if (allowed !== undefined && modelAllowed(allowed, [modelName(accountId, id)]))
      requireNotMovedByModelLimitedKey(ctx, `create model "${id}"`, "its allowedModels admit the new model, which runs on an upstream the list does not name");
    if (!input.backend) throw invalidArgument("backend is required: the name of a backend declared in HEARTH_CONFIG");
    const now = Date.now();
    const row: ModelRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName ?? ""),
      description: input.description ?? "",
      backend: checkBackend(deps, input.backend),
      upstream_model: checkUpstreamModel(deps, accountId, input.backend, input.upstreamModel || id),
      input_price: checkPrice(input.inputPricePerMillionTokens, "inputPricePerMillionTokens") ?? 0,
      output_price: checkPrice(input.outputPricePerMillionTokens, "outputPricePerMillionTokens") ?? 0,
      created_by: ctx.principal.email,
      creator_uid: ctx.principal.uid,
      create_time: now,
      update_time: now,
    };
    await createWithinQuota(deps, trx, accountId, "models", () => models.insertModel(trx, row));
    return modelView(row);
  });
  // The gateway may hold this id as missing.
  await deps.cluster.invalidator.account(accountId);
  return created;
}

export async function getModel(deps: Deps, ctx: Ctx, accountId: string, modelId: string): Promise<Model> {
  const op = { method: "GetModel", resource: modelName(accountId, modelId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "models.get");
    return modelView(await getModelRow(deps.store.db, accountId, modelId));
  });
}

export async function listModels(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListModels", resource: collectionName(accountId, "models") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "models.list");
    const page = await models.listModels(deps.store.db, accountId, req);
    return { models: page.rows.map(modelView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

export async function updateModel(deps: Deps, ctx: Ctx, accountId: string, modelId: string, input: ModelInput): Promise<Model> {
  const op = { method: "UpdateModel", resource: modelName(accountId, modelId), payload: input };
  const updated = await audited(deps, ctx, op, async (trx) => {
    // Locked before the row is read (as a create reserving quota locks): a concurrent deletion is then a 404, never a success that changed nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await getModelRow(trx, accountId, modelId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "models.manageOwn" : "models.manageOthers", own ? "update models" : "update models created by others");
    const patch: models.ModelPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName);
    if (input.description !== undefined) patch.description = input.description;
    if (input.backend !== undefined) patch.backend = checkBackend(deps, input.backend);
    if (input.upstreamModel !== undefined) patch.upstream_model = input.upstreamModel || row.id;
    if (input.inputPricePerMillionTokens !== undefined) patch.input_price = checkPrice(input.inputPricePerMillionTokens, "inputPricePerMillionTokens")!;
    if (input.outputPricePerMillionTokens !== undefined) patch.output_price = checkPrice(input.outputPricePerMillionTokens, "outputPricePerMillionTokens")!;
    for (const [field, from, to] of [
      ["inputPricePerMillionTokens", row.input_price, patch.input_price],
      ["outputPricePerMillionTokens", row.output_price, patch.output_price],
    ] as const) {
      if (to !== undefined && to < from) requireNotPricedBySpendLimitedKey(ctx, `lower ${field} of model "${modelId}" from ${from} to ${to}`);
    }
    // What a model runs on is what its prices pay for: moving a cheap model onto another backend or
    // upstream model lowers what that runs at as surely as lowering the price would.
    for (const [field, from, to] of [
      ["backend", row.backend, patch.backend],
      ["upstreamModel", row.upstream_model, patch.upstream_model],
    ] as const) {
      if (to === undefined || to === from) continue;
      requireNotPricedBySpendLimitedKey(ctx, `change ${field} of model "${modelId}" from "${from}" to "${to}"`);
      requireNotMovedByModelLimitedKey(ctx, `change ${field} of model "${modelId}" from "${from}" to "${to}"`);
    }
    if (patch.backend !== undefined || patch.upstream_model !== undefined)
      checkUpstreamModel(deps, accountId, patch.backend ?? row.backend, patch.upstream_model ?? row.upstream_model);
    const updated: ModelRow = { ...row, ...patch, update_time: Date.now() };
    await models.updateModel(trx, accountId, modelId, { ...patch, update_time: updated.update_time });
    return modelView(updated);
  });
  await deps.cluster.invalidator.account(accountId);
  return updated;
}

/** A model that a deployment still uses cannot be deleted. */
export async function deleteModel(deps: Deps, ctx: Ctx, accountId: string, modelId: string): Promise<void> {
  const op = { method: "DeleteModel", resource: modelName(accountId, modelId) };
  await audited(deps, ctx, op, async (trx) => {
    // Locked before the deployments using it are counted: one created meanwhile (which locks before it reads the model) is seen.
    await lockAccount(deps.store, trx, accountId);
    const row = await getModelRow(trx, accountId, modelId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "models.manageOwn" : "models.manageOthers", own ? "delete models" : "delete models created by others");
    const inUse = await models.countDeploymentsOfModel(trx, accountId, modelName(accountId, modelId));
    if (inUse > 0) throw failedPrecondition(`model "${modelName(accountId, modelId)}" is used by ${inUse} deployment(s); delete them first`);
    await models.deleteModel(trx, accountId, modelId);
  });
  await deps.cluster.invalidator.account(accountId);
}

/**
 * ListPublicModels: one page (AIP-158) of the operator's public catalogue (HEARTH_CONFIG), visible
 * to every principal of every account, matching `req.filter` (AIP-160) on the fields an account's
 * model list has where a public model has them (store/public-models.ts).
 * @throws INVALID_ARGUMENT for a bad filter, orderBy or pageToken.
 */
export async function listPublicModels(deps: Deps, ctx: Ctx, req: ListRequest) {
  authorize(ctx, "models.list");
  const { publicAccountId, publicModels } = deps.config.platform;
  const page = await listPublicModelIds(publicAccountId, publicModels, req);
  return {
    models: page.rows.map((id) => publicModelView(publicAccountId, publicModels.get(id)!)),
    nextPageToken: page.nextPageToken,
    totalSize: page.totalSize,
  };
}

export async function getPublicModel(deps: Deps, ctx: Ctx, modelId: string): Promise<Model> {
  authorize(ctx, "models.get");
  const { publicAccountId, publicModels } = deps.config.platform;
  const m = publicModels.get(modelId);
  if (!m) throw notFound(`model "${modelName(publicAccountId, modelId)}" not found`);
  return publicModelView(publicAccountId, m);
}
