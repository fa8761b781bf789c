import assert from "node:assert/strict";
import { request } from "./reliability.ts";
import { mistyped } from "./fixtures.ts";

/**
 * Fills an account through the HTTP API with one of everything the store holds: service accounts
 * and humans of each role, API keys (one expiring), an identity provider with a client secret,
 * a changed quota, an account model, a deployment, an uploaded dataset and metered inference.
 * Returns every secret it created or saw, for leak scans.
 */
export interface Populated {
  keys: Record<string, string>;
  keyIds: string[];
  idpSecret: string;
}

export async function populate(baseUrl: string, adminKey: string, accountId = "my-account", tag = "p"): Promise<Populated> {
  const A = `/v1/accounts/${accountId}`;
  const ok = async (method: string, path: string, body?: unknown, key = adminKey) => {
    const res = await request(baseUrl, method, path, { key, ...(body !== undefined ? { body } : {}) });
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const keys: Record<string, string> = {};
  const keyIds: string[] = [];
  for (const role of ["admin", "user", "contributor", "inference-user"]) {
    const id = `${tag}-sa-${role}`;
    await ok("POST", `${A}/users?userId=${id}`, { serviceAccount: true, role, displayName: `SA ${role}` });
    const key = await ok("POST", `${A}/users/${id}/apiKeys`, { apiKey: { displayName: `${role} key` } });
    keys[id] = key.key;
    keyIds.push(key.keyId);
  }
  const expiring = await ok("POST", `${A}/users/${tag}-sa-user/apiKeys`, { apiKey: { displayName: "expiring", expireTime: "2099-01-01T00:00:00Z" } });
  keys[`${tag}-sa-user-expiring`] = expiring.key;
  keyIds.push(expiring.keyId);
  for (const role of ["user", "contributor"]) await ok("POST", `${A}/users`, { email: `${tag}.${role}@corp.example`, role });
  await ok("PATCH", `${A}/users/${tag}-sa-contributor`, { role: "user" });
  await ok("PATCH", `${A}/quotas/api-keys-per-user`, { value: 9 });
  const idpSecret = `idp-secret-${tag}-${Math.random().toString(36).slice(2)}`;
  await ok("POST", `${A}/identityProviders?identityProviderId=${tag}-corp`, {
    displayName: "Corp",
    // A host name, not a literal loopback address: accepted at creation without HEARTH_ALLOW_PRIVATE_NETWORKS (never reached).
    oidcConfig: { issuerUrl: "http://localhost:9/issuer", clientId: "hearth", clientSecret: idpSecret },
    tenantDomains: ["corp.example"],
  });
  const user = keys[`${tag}-sa-user`]!;
  await ok("POST", `${A}/models?modelId=${tag}-model`, { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1 }, user);
  await ok("POST", `${A}/deployments?deploymentId=${tag}-dep`, { baseModel: `accounts/${accountId}/models/${tag}-model` }, user);
  await ok("POST", `${A}/datasets?datasetId=${tag}-data`, { displayName: "chats" }, user);
  const upload = await fetch(`${baseUrl}${A}/datasets/${tag}-data:upload`, {
    method: "POST",
    headers: { authorization: `Bearer ${user}`, "content-type": "application/jsonl" },
    body: `${JSON.stringify({ messages: [{ role: "user", content: "hello" }] })}\n`.repeat(20),
  });
  assert.equal(upload.status, 200, await upload.text());
  const inference = await request(baseUrl, "POST", "/inference/v1/chat/completions", {
    key: keys[`${tag}-sa-inference-user`]!,
    body: { model: `accounts/${accountId}/models/${tag}-model`, messages: [{ role: "user", content: "hi" }] },
  });
  assert.equal(inference.status, 200, JSON.stringify(inference.body));
  // Some refusals, so the audit log holds failed attempts too.
  assert.equal((await request(baseUrl, "POST", `${A}/users?userId=${tag}-x`, { key: user, body: { serviceAccount: true } })).status, 403);
  assert.equal((await request(baseUrl, "GET", `${A}/users`, { key: mistyped(user) })).status, 401);
  return { keys, keyIds, idpSecret };
}
