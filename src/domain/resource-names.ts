import { invalidArgument } from "./errors.ts";
import { quoted } from "./display-text.ts";
import { checkField, FIELD_RULES } from "./field-rules.ts";
import { isValidId } from "./ids.ts";

/**
 * Resource names (AIP-122): every name Hearth builds or parses is made here. An account is
 * `accounts/{account}`; its resources sit in collections under it, `accounts/{account}/{collection}/{id}`,
 * and API keys under their principal, `accounts/{account}/users/{user}/apiKeys/{key}`. The builders
 * join the segments they are given as they are (a caller that puts a name into a URL path encodes
 * the segments first).
 */
export const accountName = (accountId: string): string => `accounts/${accountId}`;

/** The collections under an account, by their names in the REST API. */
export type Collection =
  "users" | "models" | "deployments" | "datasets" | "identityProviders" | "quotas" | "auditLogs" | "auditSinks" | "permissionPresets" | "webhooks";

/** A collection's name, the parent in List calls: `accounts/{account}/{collection}`. */
export const collectionName = (accountId: string, collection: Collection): string => `${accountName(accountId)}/${collection}`;

export const userName = (accountId: string, userId: string): string => `${collectionName(accountId, "users")}/${userId}`;
export const apiKeyName = (accountId: string, userId: string, keyId: string): string => `${userName(accountId, userId)}/apiKeys/${keyId}`;
export const quotaName = (accountId: string, quotaId: string): string => `${collectionName(accountId, "quotas")}/${quotaId}`;
export const modelName = (accountId: string, modelId: string): string => `${collectionName(accountId, "models")}/${modelId}`;
export const deploymentName = (accountId: string, deploymentId: string): string => `${collectionName(accountId, "deployments")}/${deploymentId}`;
export const datasetName = (accountId: string, datasetId: string): string => `${collectionName(accountId, "datasets")}/${datasetId}`;
export const identityProviderName = (accountId: string, id: string): string => `${collectionName(accountId, "identityProviders")}/${id}`;
export const auditLogName = (accountId: string, id: string): string => `${collectionName(accountId, "auditLogs")}/${id}`;
export const permissionPresetName = (accountId: string, id: string): string => `${collectionName(accountId, "permissionPresets")}/${id}`;
export const webhookName = (accountId: string, id: string): string => `${collectionName(accountId, "webhooks")}/${id}`;
export const webhookDeliveryName = (accountId: string, webhookId: string, id: string): string => `${webhookName(accountId, webhookId)}/deliveries/${id}`;
/** The account's usage report (a singleton): `accounts/{account}/billingUsage`. */
export const billingUsageName = (accountId: string): string => `${accountName(accountId)}/billingUsage`;
export const keyPolicyName = (accountId: string): string => `${accountName(accountId)}/keyPolicy`;

/** The last segment of a resource name, its id: `accounts/a/users/u` → `u`. */
export const idOfName = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/**
 * Matches `name` against a pattern of `/`-separated segments where `*` stands for one non-empty
 * segment (`accounts/*\/users/*\/apiKeys/*`): the captured segments in order, or undefined when the
 * segment count or a literal segment differs. It does not check the captured ids.
 */
export function matchName(name: string, pattern: string): string[] | undefined {
  const parts = name.split("/");
  const shape = pattern.split("/");
  if (parts.length !== shape.length) return undefined;
  const captured: string[] = [];
  for (const [i, literal] of shape.entries()) {
    const part = parts[i]!;
    if (literal === "*") {
      if (part === "") return undefined;
      captured.push(part);
    } else if (literal !== part) return undefined;
  }
  return captured;
}

/**
 * Accepts an id or a full resource name and returns the id.
 * `collection` is the path before the id, e.g. `collectionName("my-account", "users")`.
 * @throws INVALID_ARGUMENT for an invalid id, or any other name: one of another account's
 * collection (`accounts/other/users/bob`) is refused as such, never looked up.
 */
export function idFromName(value: string, collection: string, what: string): string {
  const prefix = `${collection}/`;
  if (value.startsWith(prefix)) return checkField(FIELD_RULES.storedId, what, value.slice(prefix.length));
  if (value.includes("/")) {
    const elsewhere = matchName(value, `${collection.replace(/^accounts\/[^/]+/, "accounts/*")}/*`) !== undefined;
    const why = elsewhere ? `it is another account's ${what}; expected` : "expected";
    throw invalidArgument(`invalid ${what} ${quoted(value)}: ${why} an id or a name like ${prefix}ID`);
  }
  return checkField(FIELD_RULES.storedId, what, value);
}

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

/** The two ids of `accounts/{a}/{collection}/{id}` when `text` is such a name and both are valid ids. */
function parseAccountChild(text: string, collection: Collection): [string, string] | undefined {
  const ids = matchName(text, `accounts/*/${collection}/*`);
  return ids && ids.every(isValidId) ? [ids[0]!, ids[1]!] : undefined;
}

/** Parses `accounts/{a}/models/{m}`; undefined when the text is not such a name. */
export function parseModelName(text: string): ModelRef | undefined {
  const ids = parseAccountChild(text, "models");
  return ids && { accountId: ids[0], modelId: ids[1] };
}

function parseDeploymentName(text: string): DeploymentRef | undefined {
  const ids = parseAccountChild(text, "deployments");
  return ids && { accountId: ids[0], deploymentId: ids[1] };
}

/**
 * Parses the `model` of an inference request: `accounts/{a}/models/{m}`,
 * `accounts/{a}/models/{m}#accounts/{a}/deployments/{d}` or `accounts/{a}/deployments/{d}`.
 */
export function parseInferenceModel(text: string): InferenceTarget {
  const [left = "", right, ...rest] = text.split("#");
  const bad = () =>
    invalidArgument(
      `invalid model ${quoted(text.slice(0, 300))}: use accounts/{account}/models/{model}, ` +
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
