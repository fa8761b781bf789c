/**
 * @module The models a key may run, as OpenAI's model list shows them (`GET /models`,
 * `GET /models/{model}`): the operator's public models and the key's own account's, under their
 * Fireworks names (`accounts/{account}/models/{model}`).
 */
import { quoted } from "../domain/display-text.ts";
import { notFound } from "../domain/errors.ts";
import { modelName, parseModelName } from "../domain/resource-names.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { authorize } from "../service/permissions.ts";
import { modelIdsOf } from "../store/models.ts";
import { lookupModel } from "./inference.ts";
import { mayCallModel, requireAllowedModel } from "./key-restrictions.ts";

/** OpenAI's Model object: `created` in Unix seconds (0 for a public model, which has no creation time), `owned_by` the owning account. */
interface OpenAiModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

const view = (accountId: string, modelId: string, createTimeMs: number): OpenAiModel => ({
  id: modelName(accountId, modelId),
  object: "model",
  created: Math.floor(createTimeMs / 1000),
  owned_by: accountId,
});

/** Every model the principal may run inference on (with an API key's `allowedModels`, only those it names), by name (OpenAI's list shape, not paged: OpenAI's is not). */
export async function listInferenceModels(deps: Deps, ctx: Ctx): Promise<{ object: "list"; data: OpenAiModel[] }> {
  authorize(ctx, "inference.run");
  const { publicAccountId, publicModels } = deps.config.platform;
  const own = (await modelIdsOf(deps.store.db, ctx.principal.accountId)).map((row) => view(ctx.principal.accountId, row.id, row.create_time));
  const data = [...[...publicModels.keys()].map((id) => view(publicAccountId, id, 0)), ...own]
    .filter((m) => mayCallModel(ctx.principal, m.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { object: "list", data };
}

/**
 * One model the principal may run, by its name; any other name (another account's model too) is 404
 * `model_not_found`, and so is a model outside the key's `allowedModels`, checked before the
 * model is looked up, so that the answer is the same whether it exists or not.
 */
export async function getInferenceModel(deps: Deps, ctx: Ctx, name: string): Promise<OpenAiModel> {
  authorize(ctx, "inference.run");
  const ref = parseModelName(name);
  if (!ref) throw notFound(`model ${quoted(name.slice(0, 300))} not found: models are named accounts/{account}/models/{model}`);
  requireAllowedModel(ctx.principal, modelName(ref.accountId, ref.modelId), name);
  const info = await lookupModel(deps, ctx.principal, ref);
  return view(ref.accountId, ref.modelId, info.createTime);
}
