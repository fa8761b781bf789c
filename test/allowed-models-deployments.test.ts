import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";

/**
 * A key limited to `allowedModels` calls the deployments its list names whatever model they serve,
 * so a deployment made or changed through such a key serves only a model the key may call by name:
 * otherwise it re-points an allowed deployment at any model and calls that model through it.
 */
for (const dialect of DIALECTS) {
  describe(`allowedModels and the deployments a key makes or changes (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    const A = "/v1/accounts/my-account";
    const PUBLIC = "accounts/fireworks/models/tiny-public";
    const CHEAP = "accounts/my-account/models/cheap";
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("reproduction: a key allowed one deployment cannot re-point it at a model it may not call, nor deploy one", async () => {
      const agent = await serviceAccountWithKey(h, "agent", "user");
      const model = await h.call("POST", `${A}/models?modelId=cheap`, { key: agent.key, body: { backend: "local", upstreamModel: "cheap" } });
      assert.equal(model.status, 200, JSON.stringify(model.body));
      const d1 = await h.call("POST", `${A}/deployments?deploymentId=d1`, { key: agent.key, body: { baseModel: CHEAP } });
      assert.equal(d1.status, 200, JSON.stringify(d1.body));
      const made = await h.call("POST", `${A}/users/agent/apiKeys`, { body: { apiKey: { allowedModels: [`accounts/my-account/deployments/d1`] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const key = made.body.key;
      assert.equal((await infer(h, key, chat(PUBLIC))).status, 404, "the public model is not among its allowedModels");

      const repointed = await h.call("PATCH", `${A}/deployments/d1`, { key, body: { baseModel: PUBLIC } });
      assert.equal(repointed.status, 403, JSON.stringify(repointed.body));
      assert.match(repointed.body.error.message, /tiny-public is not among this API key's allowedModels \(accounts\/my-account\/deployments\/d1\)/);
      assert.equal((await h.call("GET", `${A}/deployments/d1`)).body.baseModel, CHEAP);
      const res = await infer(h, key, chat("accounts/my-account/deployments/d1"));
      assert.equal(res.status, 200, await res.text());

      const everyDeployment = await h.call("POST", `${A}/users/agent/apiKeys`, { body: { apiKey: { allowedModels: ["accounts/my-account/deployments/*"] } } });
      const deployed = await h.call("POST", `${A}/deployments?deploymentId=d2`, { key: everyDeployment.body.key, body: { baseModel: PUBLIC } });
      assert.equal(deployed.status, 403, JSON.stringify(deployed.body));
      assert.equal((await h.call("GET", `${A}/deployments/d2`)).status, 404);

      // A model the key may call it still deploys, and keys without allowedModels re-point freely.
      const withModel = await h.call("POST", `${A}/users/agent/apiKeys`, {
        body: { apiKey: { allowedModels: [CHEAP, "accounts/my-account/deployments/*"] } },
      });
      assert.equal((await h.call("POST", `${A}/deployments?deploymentId=d3`, { key: withModel.body.key, body: { baseModel: CHEAP } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/deployments/d1`, { key: withModel.body.key, body: { displayName: "renamed" } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/deployments/d1`, { key: agent.key, body: { baseModel: PUBLIC } })).status, 200);

      // Nor does it bring back a deleted deployment of a model it may not call, and call that.
      const old = await h.call("POST", `${A}/deployments?deploymentId=old-public`, { key: agent.key, body: { baseModel: PUBLIC } });
      assert.equal(old.status, 200, JSON.stringify(old.body));
      assert.equal((await h.call("DELETE", `${A}/deployments/old-public`, { key: agent.key })).status, 200);
      const undeleted = await h.call("POST", `${A}/deployments/old-public:undelete`, { key: everyDeployment.body.key, body: {} });
      assert.equal(undeleted.status, 403, JSON.stringify(undeleted.body));
      assert.match(undeleted.body.error.message, /tiny-public is not among this API key's allowedModels/);
      assert.equal((await h.call("GET", `${A}/deployments/old-public`)).body.state, "DELETED");
      assert.equal((await h.call("POST", `${A}/deployments/old-public:undelete`, { key: agent.key, body: {} })).status, 200, "a key without allowedModels may");
    });

    test("reproduction: nor does it move the model its deployment serves onto the public model's upstream", async () => {
      const agent = await serviceAccountWithKey(h, "mover", "user");
      const model = await h.call("POST", `${A}/models?modelId=own`, { key: agent.key, body: { backend: "local", upstreamModel: "own" } });
      assert.equal(model.status, 200, JSON.stringify(model.body));
      const OWN = "accounts/my-account/models/own";
      assert.equal((await h.call("POST", `${A}/deployments?deploymentId=d4`, { key: agent.key, body: { baseModel: OWN } })).status, 200);
      for (const allowedModels of [["accounts/my-account/deployments/d4"], [OWN]]) {
        const made = await h.call("POST", `${A}/users/mover/apiKeys`, { body: { apiKey: { allowedModels } } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const moved = await h.call("PATCH", `${A}/models/own`, { key: made.body.key, body: { upstreamModel: "tiny-upstream" } });
        assert.equal(moved.status, 403, JSON.stringify(moved.body));
        assert.equal(
          moved.body.error.message,
          `this API key is limited to allowedModels (${allowedModels[0]}), so it cannot change upstreamModel of model "own" from "own" to "tiny-upstream": the models it may call would call another upstream; use a key without allowedModels or a console session`,
        );
        const renamed = await h.call("PATCH", `${A}/models/own`, { key: made.body.key, body: { displayName: "Own", upstreamModel: "own" } });
        assert.equal(renamed.status, 200, `sent back unchanged it is fine: ${JSON.stringify(renamed.body)}`);
      }
      assert.equal((await h.call("GET", `${A}/models/own`)).body.upstreamModel, "own");
      assert.equal(
        (await h.call("PATCH", `${A}/models/own`, { key: agent.key, body: { upstreamModel: "tiny-upstream" } })).status,
        200,
        "its unrestricted key may",
      );
    });

    test("reproduction: nor does it create a model on the public model's upstream, which a models/* pattern would admit", async () => {
      const agent = await serviceAccountWithKey(h, "aliaser", "user");
      const made = await h.call("POST", `${A}/users/aliaser/apiKeys`, { body: { apiKey: { allowedModels: ["accounts/my-account/models/*"] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const alias = await h.call("POST", `${A}/models?modelId=alias`, { key: made.body.key, body: { backend: "local", upstreamModel: "tiny-upstream" } });
      assert.equal(alias.status, 403, JSON.stringify(alias.body));
      assert.match(
        alias.body.error.message,
        /^this API key is limited to allowedModels \(accounts\/my-account\/models\/\*\), so it cannot create model "alias": its allowedModels admit the new model, which runs on an upstream the list does not name;/,
      );
      assert.equal((await h.call("GET", `${A}/models/alias`)).status, 404);
      assert.equal((await infer(h, made.body.key, chat("accounts/my-account/models/alias"))).status, 404);
      assert.equal(
        (await h.call("POST", `${A}/models?modelId=alias`, { key: agent.key, body: { backend: "local", upstreamModel: "alias" } })).status,
        200,
        "its unrestricted key may",
      );
      // A model its list does not admit, it may create: it can never call it.
      const narrow = await h.call("POST", `${A}/users/aliaser/apiKeys`, { body: { apiKey: { allowedModels: ["accounts/my-account/models/alias"] } } });
      const other = await h.call("POST", `${A}/models?modelId=other`, { key: narrow.body.key, body: { backend: "local", upstreamModel: "tiny-upstream" } });
      assert.equal(other.status, 200, JSON.stringify(other.body));
      assert.equal((await infer(h, narrow.body.key, chat("accounts/my-account/models/other"))).status, 404, "and cannot call it");
    });
  });
}
