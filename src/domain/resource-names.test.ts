import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInferenceModel } from "./resource-names.ts";

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
