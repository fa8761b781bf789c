/**
 * @module An API key's `allowedModels` on the OpenAI-compatible routes: a request may call a model,
 * or a deployment, only when the key's list names it or a pattern covering it; the model list shows
 * only the models the key may call.
 */
import { modelAllowed } from "../domain/api-key-restrictions.ts";
import { permissionDenied } from "../domain/errors.ts";
import type { Principal } from "../domain/principal.ts";
import { deploymentName, parseInferenceModel } from "../domain/resource-names.ts";

/**
 * Refuses an inference request whose key's `allowedModels` match neither the model it resolved to
 * (`modelName`) nor the deployment its `model` field names, if any (`requested`, as the client sent
 * it). A key without `allowedModels` calls every model its owner may.
 * @throws PERMISSION_DENIED (403, OpenAI `permission_error`) naming the model and the restriction.
 */
export function requireAllowedModel(principal: Principal, modelName: string, requested: string): void {
  const allowed = principal.restrictions?.allowedModels;
  if (allowed === undefined) return;
  const { deployment } = parseInferenceModel(requested);
  const names = deployment ? [modelName, deploymentName(deployment.accountId, deployment.deploymentId)] : [modelName];
  if (modelAllowed(allowed, names)) return;
  throw permissionDenied(`this API key may not call model "${requested.slice(0, 300)}": it is not among the key's allowedModels`);
}

/** Whether the principal's key may call the model named `modelName` (every model when the key has no `allowedModels`). */
export function mayCallModel(principal: Principal, modelName: string): boolean {
  const allowed = principal.restrictions?.allowedModels;
  return allowed === undefined || modelAllowed(allowed, [modelName]);
}
