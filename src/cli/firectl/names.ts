import {
  accountName,
  apiKeyName,
  billingUsageName,
  collectionName,
  keyPolicyName,
  matchName,
  quotaName,
  userName,
  type Collection,
} from "../../domain/resource-names.ts";
import { usageError } from "./errors.ts";

/**
 * Resource names on the command line: a resource may be given by its id (`x`) or its full name
 * (`accounts/my-account/users/x`). Paths built from them encode every segment.
 */
const seg = encodeURIComponent;
const v1 = (name: string): string => `/v1/${name}`;
const all = (collection: Collection) => (a: string) => v1(collectionName(seg(a), collection));
const one = (collection: Collection) => (a: string, id: string) => `${all(collection)(a)}/${seg(id)}`;

export const paths = {
  accounts: () => v1("accounts"),
  account: (a: string) => v1(accountName(seg(a))),
  users: all("users"),
  user: (a: string, u: string) => v1(userName(seg(a), seg(u))),
  /** `u` may be `-`: every principal's keys (AIP-159). */
  apiKeys: (a: string, u: string) => `${v1(userName(seg(a), u === "-" ? "-" : seg(u)))}/apiKeys`,
  /** `u` may be `-`: the key by its id, whoever holds it (AIP-159). */
  apiKey: (a: string, u: string, k: string) => v1(apiKeyName(seg(a), seg(u), seg(k))),
  deleteApiKey: (a: string, u: string) => `${v1(userName(seg(a), seg(u)))}/apiKeys:delete`,
  keyPolicy: (a: string) => v1(keyPolicyName(seg(a))),
  quotas: all("quotas"),
  quota: (a: string, q: string) => v1(quotaName(seg(a), seg(q))),
  auditLogs: all("auditLogs"),
  models: all("models"),
  model: one("models"),
  deployments: all("deployments"),
  deployment: one("deployments"),
  datasets: all("datasets"),
  dataset: one("datasets"),
  identityProviders: all("identityProviders"),
  identityProvider: one("identityProviders"),
  permissionPresets: all("permissionPresets"),
  permissionPreset: one("permissionPresets"),
  webhooks: all("webhooks"),
  webhook: one("webhooks"),
  webhookDeliveries: (a: string, w: string) => `${one("webhooks")(a, w)}/deliveries`,
  redeliver: (a: string, w: string, d: string) => `${one("webhooks")(a, w)}/deliveries/${seg(d)}:redeliver`,
  billingUsage: (a: string) => v1(billingUsageName(seg(a))),
};

/** What a name said: the account and parent ids it carried (if it was a full name) and the id. */
export interface Ref {
  accountId?: string | undefined;
  userId?: string | undefined;
  id: string;
}

/**
 * Parses an id or a full name shaped like `template` (`accounts/*\/users/*`): literal segments must
 * match, `*` segments are captured. Returns the account (first `*`), the user (for keys) and the id.
 */
function parseRef(value: string, template: string, what: string): Ref {
  const example = template.replace("accounts/*", "accounts/ACCOUNT").replace("users/*/", "users/USER/").replace(/\*$/, "ID");
  const bad = () => usageError(`invalid ${what} ${JSON.stringify(value)}: give an id or a full name like ${example}`);
  if (value.trim() === "") throw bad();
  if (!value.includes("/")) return { id: value };
  const captured = matchName(value, template);
  if (!captured) throw bad();
  const id = captured.pop() ?? "";
  return { accountId: captured[0], userId: captured[1], id };
}

export const userRef = (value: string): Ref => parseRef(value, "accounts/*/users/*", "user");
export const apiKeyRef = (value: string): Ref => parseRef(value, "accounts/*/users/*/apiKeys/*", "API key");
export const quotaRef = (value: string): Ref => parseRef(value, "accounts/*/quotas/*", "quota");
export const accountRef = (value: string): Ref => parseRef(value, "accounts/*", "account");
export const identityProviderRef = (value: string): Ref => parseRef(value, "accounts/*/identityProviders/*", "identity provider");
export const permissionPresetRef = (value: string): Ref => parseRef(value, "accounts/*/permissionPresets/*", "permission preset");
export const webhookRef = (value: string): Ref => parseRef(value, "accounts/*/webhooks/*", "webhook");
export const modelRef = (value: string): Ref => parseRef(value, "accounts/*/models/*", "model");
export const deploymentRef = (value: string): Ref => parseRef(value, "accounts/*/deployments/*", "deployment");
export const datasetRef = (value: string): Ref => parseRef(value, "accounts/*/datasets/*", "dataset");
