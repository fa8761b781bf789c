import { usageError } from "./errors.ts";

/**
 * Resource names on the command line: a resource may be given by its id (`x`) or its full name
 * (`accounts/my-account/users/x`). Paths built from them encode every segment.
 */
const seg = encodeURIComponent;

export const paths = {
  account: (a: string) => `/v1/accounts/${seg(a)}`,
  users: (a: string) => `/v1/accounts/${seg(a)}/users`,
  user: (a: string, u: string) => `/v1/accounts/${seg(a)}/users/${seg(u)}`,
  /** `u` may be `-`: every principal's keys (AIP-159). */
  apiKeys: (a: string, u: string) => `/v1/accounts/${seg(a)}/users/${u === "-" ? "-" : seg(u)}/apiKeys`,
  apiKey: (a: string, u: string, k: string) => `/v1/accounts/${seg(a)}/users/${seg(u)}/apiKeys/${seg(k)}`,
  deleteApiKey: (a: string, u: string) => `/v1/accounts/${seg(a)}/users/${seg(u)}/apiKeys:delete`,
  quotas: (a: string) => `/v1/accounts/${seg(a)}/quotas`,
  quota: (a: string, q: string) => `/v1/accounts/${seg(a)}/quotas/${seg(q)}`,
  auditLogs: (a: string) => `/v1/accounts/${seg(a)}/auditLogs`,
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
  const parts = value.split("/");
  if (parts.length === 1) return { id: value };
  const shape = template.split("/");
  if (parts.length !== shape.length) throw bad();
  const captured: string[] = [];
  shape.forEach((literal, i) => {
    const part = parts[i] ?? "";
    if (literal === "*") {
      if (part === "") throw bad();
      captured.push(part);
    } else if (literal !== part) throw bad();
  });
  const id = captured.pop() ?? "";
  return { accountId: captured[0], userId: captured[1], id };
}

export const userRef = (value: string): Ref => parseRef(value, "accounts/*/users/*", "user");
export const apiKeyRef = (value: string): Ref => parseRef(value, "accounts/*/users/*/apiKeys/*", "API key");
export const quotaRef = (value: string): Ref => parseRef(value, "accounts/*/quotas/*", "quota");
export const accountRef = (value: string): Ref => parseRef(value, "accounts/*", "account");
export const identityProviderRef = (value: string): Ref => parseRef(value, "accounts/*/identityProviders/*", "identity provider");
export const modelRef = (value: string): Ref => parseRef(value, "accounts/*/models/*", "model");
export const deploymentRef = (value: string): Ref => parseRef(value, "accounts/*/deployments/*", "deployment");
export const datasetRef = (value: string): Ref => parseRef(value, "accounts/*/datasets/*", "dataset");
