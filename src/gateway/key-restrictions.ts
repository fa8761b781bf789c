/**
 * @module An API key's `allowedModels` on the OpenAI-compatible routes: a request may call a model,
 * or a deployment, only when the key's list names it or a pattern covering it; the model list shows
 * only the models the key may call. A key learns nothing of a model it may not call: not whether it
 * exists (one 404 either way, as OpenAI's `model_not_found` "does not exist or you do not have
 * access to it"), nor its kind, its deployment's state or its backend.
 */
import { modelAllowed } from "../domain/api-key-restrictions.ts";
import { notFound, type ApiError } from "../domain/errors.ts";
import type { Principal } from "../domain/principal.ts";
import { deploymentName, modelName, parseInferenceModel, type InferenceTarget } from "../domain/resource-names.ts";

/**
 * The one refusal of a model outside the key's `allowedModels`, worded and coded as for a model
 * that does not exist, so that the two cannot be told apart.
 * @param requested the request's `model`, as the client sent it.
 */
function notCallable(requested: string): ApiError {
  return notFound(`model "${requested.slice(0, 300)}" does not exist, or is not among this API key's allowedModels`);
}

/**
 * Refuses an inference request whose key's `allowedModels` match neither the model it resolved to
 * (`modelName`) nor the deployment its `model` field names, if any (`requested`, as the client sent
 * it). A key without `allowedModels` calls every model its owner may.
 * @throws NOT_FOUND (404, OpenAI `model_not_found`), the same as for a model that does not exist.
 */
export function requireAllowedModel(principal: Principal, modelName: string, requested: string): void {
  const allowed = principal.restrictions?.allowedModels;
  if (allowed === undefined) return;
  const { deployment } = parseInferenceModel(requested);
  const names = deployment ? [modelName, deploymentName(deployment.accountId, deployment.deploymentId)] : [modelName];
  if (modelAllowed(allowed, names)) return;
  throw notCallable(requested);
}

/**
 * Checks a request's parsed `model` against the key's `allowedModels` before anything is looked
 * up: answers whether the key may know of what it names, the deployment when it names one (else the
 * model). A model it may not call is refused here, as a missing model. A deployment may still be
 * allowed by the model it serves (whatever model `model#deployment` names): the caller checks that
 * (`requireAllowedModel`) once its row is read, and refuses a missing one with `refuseUnlessNamed`.
 * @throws NOT_FOUND (404), as `requireAllowedModel`.
 */
export function checkNamedModel(principal: Principal, target: InferenceTarget, requested: string): boolean {
  const allowed = principal.restrictions?.allowedModels;
  if (allowed === undefined) return true;
  const { model, deployment } = target;
  if (deployment) return modelAllowed(allowed, [deploymentName(deployment.accountId, deployment.deploymentId)]);
  if (modelAllowed(allowed, [modelName(model!.accountId, model!.modelId)])) return true;
  throw notCallable(requested);
}

/**
 * The refusal of something `requested` names that does not exist: `missing` to a key that may
 * know of it (`named`, from `checkNamedModel`), the allowedModels refusal to any other.
 */
export function refuseUnlessNamed(named: boolean, requested: string, missing: ApiError): ApiError {
  return named ? missing : notCallable(requested);
}

/** Whether the principal's key may call the model named `modelName` (every model when the key has no `allowedModels`). */
export function mayCallModel(principal: Principal, modelName: string): boolean {
  const allowed = principal.restrictions?.allowedModels;
  return allowed === undefined || modelAllowed(allowed, [modelName]);
}
