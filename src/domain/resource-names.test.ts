import assert from "node:assert/strict";
import { test } from "node:test";
import { apiKeyName, collectionName, idOfName, matchName, parseInferenceModel, quotaName } from "./resource-names.ts";

test("an inference model names a model, a deployment, or a model on a deployment", () => {
  assert.deepEqual(parseInferenceModel("accounts/a/models/m"), { model: { accountId: "a", modelId: "m" } });
  assert.deepEqual(parseInferenceModel("accounts/a/deployments/d"), { deployment: { accountId: "a", deploymentId: "d" } });
  assert.deepEqual(parseInferenceModel("accounts/a/models/m#accounts/a/deployments/d"), {
    model: { accountId: "a", modelId: "m" },
    deployment: { accountId: "a", deploymentId: "d" },
  });
});

test("anything else is INVALID_ARGUMENT showing the accepted forms", () => {
  for (const text of ["m", "accounts/a/models/", "accounts/A/models/m", "accounts/a/models/m#x", "a#b#c", "accounts/a/models/m/extra"]) {
    assert.throws(() => parseInferenceModel(text), /invalid model .*accounts\/\{account\}\/models\/\{model\}/, text);
  }
});

test("names are built from their segments and matched back by pattern", () => {
  assert.equal(apiKeyName("a", "u", "k"), "accounts/a/users/u/apiKeys/k");
  assert.equal(collectionName("a", "identityProviders"), "accounts/a/identityProviders");
  assert.equal(idOfName(quotaName("a", "datasets")), "datasets");
  const cases: [string, string, string[] | undefined][] = [
    ["accounts/a/users/u/apiKeys/k", "accounts/*/users/*/apiKeys/*", ["a", "u", "k"]],
    ["accounts/a/quotas/q", "accounts/*/quotas/*", ["a", "q"]],
    ["accounts/a/quotas/q", "accounts/*/users/*", undefined],
    ["accounts/a/quotas/", "accounts/*/quotas/*", undefined],
    ["accounts/a/quotas/q/x", "accounts/*/quotas/*", undefined],
    ["accounts//quotas/q", "accounts/*/quotas/*", undefined],
  ];
  for (const [name, pattern, expected] of cases) assert.deepEqual(matchName(name, pattern), expected, `${name} ~ ${pattern}`);
});
