import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * A value a request may give in two places (an id in the query or the body, a field flat or in its
 * nested resource, an updateMask in the query or the body) is taken from either, or from both when
 * they agree; two different values are a 400 naming both places, audited, and nothing is stored.
 * (One of them used to win silently: `?datasetId=a` with `{"datasetId": "b"}` created `a`.)
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`one value given in two places (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    const refusedNaming = async (method: string, url: string, body: unknown, pattern: RegExp) => {
      const res = await h.call(method, url, { body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.status, "INVALID_ARGUMENT");
      assert.match(res.body.error.message, pattern);
    };

    test("datasets: an id in the query and another in the body, or a displayName flat and another nested, is refused and creates nothing", async () => {
      await refusedNaming(
        "POST",
        `${A}/datasets?datasetId=qa`,
        { datasetId: "qb" },
        /datasetId is given twice with different values, in the query and in the body/,
      );
      await refusedNaming(
        "POST",
        `${A}/datasets?datasetId=qc`,
        { displayName: "Flat", dataset: { displayName: "Nested" } },
        /displayName .* in the body and in "dataset"/,
      );
      for (const id of ["qa", "qb", "qc"]) assert.equal((await h.call("GET", `${A}/datasets/${id}`)).status, 404, id);
      const refusals = await auditEntries(h, 'method="CreateDataset" AND status:"INVALID_ARGUMENT"');
      assert.equal(refusals.length, 2, "each refusal is audited");
      // The same value in both places is one value.
      const same = await h.call("POST", `${A}/datasets?datasetId=qd`, { body: { datasetId: "qd", displayName: "Same", dataset: { displayName: "Same" } } });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.deepEqual([same.body.name, same.body.displayName], [`accounts/my-account/datasets/qd`, "Same"]);
    });

    test("models: a modelId in the query and another in the body, or an upstreamModel flat and another nested, is refused", async () => {
      const model = { backend: "local", upstreamModel: "tiny-upstream" };
      await refusedNaming("POST", `${A}/models?modelId=ma`, { modelId: "mb", ...model }, /modelId is given twice/);
      await refusedNaming(
        "POST",
        `${A}/models?modelId=mc`,
        { ...model, model: { ...model, upstreamModel: "other" } },
        /upstreamModel .* in the body and in "model"/,
      );
      for (const id of ["ma", "mb", "mc"]) assert.equal((await h.call("GET", `${A}/models/${id}`)).status, 404, id);
      assert.equal((await h.call("POST", `${A}/models?modelId=md`, { body: { modelId: "md", model } })).status, 200);
    });

    test("an update whose updateMask in the query differs from the one in the body is refused and changes nothing", async () => {
      const created = await h.call("POST", `${A}/datasets?datasetId=mask`, { body: { displayName: "Before" } });
      assert.equal(created.status, 200);
      await refusedNaming("PATCH", `${A}/datasets/mask?updateMask=displayName`, { displayName: "After", updateMask: "format" }, /updateMask is given twice/);
      assert.equal((await h.call("GET", `${A}/datasets/mask`)).body.displayName, "Before");
      const agreed = await h.call("PATCH", `${A}/datasets/mask?updateMask=displayName`, { body: { displayName: "After", updateMask: "displayName" } });
      assert.equal(agreed.status, 200, JSON.stringify(agreed.body));
      assert.equal(agreed.body.displayName, "After");
      // The same paths in another order or spelling are the same mask.
      for (const [query, body] of [
        ["display_name", "displayName"],
        ["displayName", "displayName "],
      ]) {
        const same = await h.call("PATCH", `${A}/datasets/mask?updateMask=${query}`, { body: { displayName: `Again ${query}`, updateMask: body } });
        assert.equal(same.status, 200, `${query} ≡ ${body}: ${JSON.stringify(same.body)}`);
      }
      const models = await h.call("POST", `${A}/models?modelId=masked`, { body: { backend: "local", upstreamModel: "tiny-upstream" } });
      assert.equal(models.status, 200, JSON.stringify(models.body));
      const reordered = await h.call("PATCH", `${A}/models/masked?updateMask=displayName,description`, {
        body: { displayName: "M", description: "d", updateMask: "description,display_name" },
      });
      assert.equal(reordered.status, 200, JSON.stringify(reordered.body));
    });
  });
}
