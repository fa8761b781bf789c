import assert from "node:assert/strict";
import { createAccount } from "../../src/service/accounts.ts";
import type { TestHearth } from "./hearth.ts";

/** Creates a service account with `role` and one API key for it; returns the key. */
export async function serviceAccountWithKey(h: TestHearth, userId: string, role = "user"): Promise<{ key: string; keyId: string }> {
  const sa = await h.call("POST", `/v1/accounts/${h.accountId}/users?userId=${userId}`, { body: { serviceAccount: true, role } });
  assert.equal(sa.status, 200, JSON.stringify(sa.body));
  const key = await h.call("POST", `/v1/accounts/${h.accountId}/users/${userId}/apiKeys`, { body: { apiKey: {} } });
  assert.equal(key.status, 200, JSON.stringify(key.body));
  return { key: key.body.key, keyId: key.body.keyId };
}

/** Creates a human user with `role`; a human's key can only be created by that human, so none is made here. */
export async function human(h: TestHearth, email: string, role: string): Promise<string> {
  const res = await h.call("POST", `/v1/accounts/${h.accountId}/users`, { body: { email, role } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.name.split("/").pop();
}

/** A second account with its own admin key. */
export async function otherAccount(h: TestHearth, accountId = "other-account"): Promise<string> {
  const created = await createAccount(h.deps.store, h.deps.config, accountId, `admin@${accountId}.example`);
  return created.apiKey;
}

/** Searches every audit entry of the account (admin view) for entries matching `method`. */
export async function auditEntries(h: TestHearth, filter: string): Promise<any[]> {
  const res = await h.call("GET", `/v1/accounts/${h.accountId}/auditLogs?pageSize=200&filter=${encodeURIComponent(filter)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.auditLogs;
}

/**
 * `value` with its last character replaced by one certain to differ: a key whose checksum no
 * longer holds, or a token off by one character. (A fixed replacement such as "zz" equals the
 * original once in 3,844 keys, and the "bad" key then works.)
 */
export function mistyped(value: string): string {
  return `${value.slice(0, -1)}${value.endsWith("a") ? "b" : "a"}`;
}
