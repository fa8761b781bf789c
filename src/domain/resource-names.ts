import { invalidArgument } from "./errors.ts";
import { isValidId } from "./ids.ts";

/** Names of the platform resources keys act on: `accounts/{account}/{collection}/{id}`. */
export const modelName = (accountId: string, modelId: string): string => `accounts/${accountId}/models/${modelId}`;
export const deploymentName = (accountId: string, deploymentId: string): string => `accounts/${accountId}/deployments/${deploymentId}`;
export const datasetName = (accountId: string, datasetId: string): string => `accounts/${accountId}/datasets/${datasetId}`;
/** An identity provider's name: `accounts/{account}/identityProviders/{id}`. */
export const identityProviderName = (accountId: string, id: string): string => `accounts/${accountId}/identityProviders/${id}`;

export interface ModelRef {
  accountId: string;
  modelId: string;
}

interface DeploymentRef {
  accountId: string;
  deploymentId: string;
}

/** What an inference request's `model` field names: a model, a deployment, or a model on a deployment. */
export interface InferenceTarget {
  model?: ModelRef;
  deployment?: DeploymentRef;
}

const MODEL = /^accounts\/([^/]+)\/models\/([^/#]+)$/;
const DEPLOYMENT = /^accounts\/([^/]+)\/deployments\/([^/#]+)$/;

/** Parses `accounts/{a}/models/{m}`; undefined when the text is not such a name. */
export function parseModelName(text: string): ModelRef | undefined {
  const m = MODEL.exec(text);
  return m && isValidId(m[1]!) && isValidId(m[2]!) ? { accountId: m[1]!, modelId: m[2]! } : undefined;
}

function parseDeploymentName(text: string): DeploymentRef | undefined {
  const m = DEPLOYMENT.exec(text);
  return m && isValidId(m[1]!) && isValidId(m[2]!) ? { accountId: m[1]!, deploymentId: m[2]! } : undefined;
}

/**
 * Parses the `model` of an inference request: `accounts/{a}/models/{m}`,
 * `accounts/{a}/models/{m}#accounts/{a}/deployments/{d}` or `accounts/{a}/deployments/{d}`.
 */
export function parseInferenceModel(text: string): InferenceTarget {
  const [left = "", right, ...rest] = text.split("#");
  const bad = () =>
    invalidArgument(
      `invalid model ${JSON.stringify(text.slice(0, 300))}: use accounts/{account}/models/{model}, ` +
        "accounts/{account}/models/{model}#accounts/{account}/deployments/{deployment} or accounts/{account}/deployments/{deployment}",
    );
  if (rest.length > 0) throw bad();
  if (right !== undefined) {
    const model = parseModelName(left);
    const deployment = parseDeploymentName(right);
    if (!model || !deployment) throw bad();
    return { model, deployment };
  }
  const model = parseModelName(left);
  if (model) return { model };
  const deployment = parseDeploymentName(left);
  if (deployment) return { deployment };
  throw bad();
}
