import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";

const A = "/v1/accounts/my-account";

/**
 * A model's prices decide what a key's `monthlySpendUsd` counts. A key limited to $1 a month whose
 * owner manages a model once set that model's prices to 0 (200) and then spent on it without limit;
 * it could as well create a free model of its own. Through such a key, models are not created and
 * prices are not lowered; a key made through it inherits the limit, and so the rule.
 */
for (const dialect of DIALECTS) {
  describe(`a spend-limited key does not choose what its spending costs (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let limited: string;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      const owner = await serviceAccountWithKey(h, "team-bot", "contributor");
      const priced = await h.call("POST", `${A}/models?modelId=m1`, {
        key: owner.key,
        body: { backend: "local", upstreamModel: "m1", inputPricePerMillionTokens: 2, outputPricePerMillionTokens: 6 },
      });
      assert.equal(priced.status, 200, JSON.stringify(priced.body));
      const made = await h.call("POST", `${A}/users/team-bot/apiKeys`, { body: { apiKey: { monthlySpendUsd: 1 } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      limited = made.body.key;
    });
    after(() => stop());

    test("reproduction: it cannot lower a price of a model its owner manages; the refusal is audited and the price kept", async () => {
      const lowered = await h.call("PATCH", `${A}/models/m1`, { key: limited, body: { inputPricePerMillionTokens: 0, outputPricePerMillionTokens: 0 } });
      assert.equal(lowered.status, 403, JSON.stringify(lowered.body));
      assert.equal(
        lowered.body.error.message,
        'this API key has a monthlySpendUsd of 1, so it cannot lower inputPricePerMillionTokens of model "m1" from 2 to 0: a model\'s prices decide what that limit counts; use a key without one or a console session',
      );
      const kept = (await h.call("GET", `${A}/models/m1`)).body;
      assert.deepEqual([kept.inputPricePerMillionTokens, kept.outputPricePerMillionTokens], [2, 6]);
      const [entry] = await auditEntries(h, 'method="UpdateModel" AND status:"monthlySpendUsd"');
      assert.equal(entry.principal, "team-bot@my-account.sa.hearth.local");
      assert.equal((await infer(h, limited, chat("accounts/my-account/models/m1"))).status, 200, "it still calls the model");
    });

    test("reproduction: it cannot move a cheap model onto what a dearer one runs on (upstreamModel, backend)", async () => {
      const owner = await h.call("POST", `${A}/users/team-bot/apiKeys`, { body: { apiKey: {} } });
      const cheap = await h.call("POST", `${A}/models?modelId=cheap`, {
        key: owner.body.key,
        body: { backend: "local", upstreamModel: "small", inputPricePerMillionTokens: 0, outputPricePerMillionTokens: 0 },
      });
      assert.equal(cheap.status, 200, JSON.stringify(cheap.body));
      const moved = await h.call("PATCH", `${A}/models/cheap`, { key: limited, body: { upstreamModel: "m1" } });
      assert.equal(moved.status, 403, JSON.stringify(moved.body));
      assert.equal(
        moved.body.error.message,
        'this API key has a monthlySpendUsd of 1, so it cannot change upstreamModel of model "cheap" from "small" to "m1": a model\'s prices decide what that limit counts; use a key without one or a console session',
      );
      assert.equal((await h.call("GET", `${A}/models/cheap`)).body.upstreamModel, "small");
      const same = await h.call("PATCH", `${A}/models/cheap`, { key: limited, body: { upstreamModel: "small", backend: "local", displayName: "Cheap" } });
      assert.equal(same.status, 200, `sent back unchanged it is fine: ${JSON.stringify(same.body)}`);
      const byAdmin = await h.call("PATCH", `${A}/models/cheap`, { body: { upstreamModel: "m1" } });
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
    });

    test("it creates no model, nor does a key made through it; a raised price or a new name is its to set", async () => {
      const child = await h.call("POST", `${A}/users/team-bot/apiKeys`, { key: limited, body: { apiKey: {} } });
      assert.equal(child.status, 200, JSON.stringify(child.body));
      for (const key of [limited, child.body.key]) {
        const created = await h.call("POST", `${A}/models?modelId=free`, { key, body: { backend: "local", upstreamModel: "m1" } });
        assert.equal(created.status, 403, JSON.stringify(created.body));
        assert.match(created.body.error.message, /^this API key has a monthlySpendUsd of 1, so it cannot create models:/);
      }
      assert.equal((await h.call("GET", `${A}/models/free`)).status, 404);
      const raised = await h.call("PATCH", `${A}/models/m1`, { key: limited, body: { outputPricePerMillionTokens: 8, displayName: "M1" } });
      assert.equal(raised.status, 200, JSON.stringify(raised.body));
      assert.deepEqual([raised.body.outputPricePerMillionTokens, raised.body.displayName], [8, "M1"]);
      const unlimited = await h.call("POST", `${A}/models?modelId=free`, { body: { backend: "local", upstreamModel: "m1" } });
      assert.equal(unlimited.status, 200, "an admin's unrestricted key creates it");
    });
  });
}
