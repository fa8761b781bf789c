import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AccountUsage } from "../src/http/resources/account-usage.ts";
import type { BillingUsage } from "../src/http/resources/billing-usage.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";

const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";

/**
 * `GET …/billingUsage` asked as Fireworks' "Get Account Usage" (docs.fireworks.ai/api-reference/get-billing-usage):
 * real calls through the gateway, read back as `serverlessCosts`, as a script written for Fireworks reads them.
 */
for (const dialect of DIALECTS) {
  describe(`billingUsage as Fireworks' Get Account Usage (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const range = `startTime=${today}T00:00:00Z&endTime=${tomorrow}T00:00:00Z`;

    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      const sa = await h.call("POST", `${A}/users?userId=bot`, { body: { serviceAccount: true, role: "user" } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      const key = await h.call("POST", `${A}/users/bot/apiKeys`, { body: { apiKey: { displayName: "ci-runner" } } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      bot = { key: key.body.key, keyId: key.body.keyId };
      for (let i = 0; i < 2; i++) assert.equal((await infer(h, bot.key, chat(PUBLIC))).status, 200);
      assert.equal((await infer(h, h.adminKey, chat(PUBLIC))).status, 200);
    });
    after(async () => stop?.());

    const get = async (query: string, key = h.adminKey) => h.call("GET", `${A}/billingUsage?${query}`, { key });
    const usage = async (query: string, key = h.adminKey): Promise<AccountUsage> => {
      const res = await get(query, key);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as AccountUsage;
    };
    const refused = async (query: string, pattern: RegExp) => {
      const res = await get(query);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.status, "INVALID_ARGUMENT");
      assert.match(res.body.error.message, pattern, query);
    };

    test("a script's request (usageType=SERVERLESS, groupBy api_key_id, api_key_name, model_name) reads each key's daily tokens from group, counts as int64 strings", async () => {
      const got = await usage(`${range}&usageType=SERVERLESS&groupBy=api_key_id&groupBy=api_key_name&groupBy=model_name`);
      assert.deepEqual(got.dedicatedCosts, []);
      assert.deepEqual(got.trainingCosts, []);
      const mine = got.serverlessCosts.find((r) => r.group.api_key_name === "ci-runner");
      assert.ok(mine, JSON.stringify(got));
      assert.deepEqual(mine.group, { api_key_id: bot.keyId, api_key_name: "ci-runner", model_name: PUBLIC });
      assert.equal(mine.apiKeyId, bot.keyId, "the deprecated top-level apiKeyId, filled when grouped by api_key_id");
      assert.equal(mine.modelName, PUBLIC);
      assert.deepEqual([mine.promptTokens, mine.completionTokens], ["22", "14"]);
      assert.equal(mine.startTime, `${today}T00:00:00.000Z`);
      assert.equal(mine.endTime, `${tomorrow}T00:00:00.000Z`);
      assert.equal(got.serverlessCosts.length, 2, "the admin's key has its row too");
      // The cost is Hearth's metered spend in nano-dollars: the same total Hearth's own report gives in dollars.
      const hearth = (await get(`${range}&groupBy=day`)).body as BillingUsage;
      const nano = got.serverlessCosts.reduce((n, r) => n + r.costNanoUsd, 0);
      assert.ok(Number.isInteger(nano) && nano > 0, String(nano));
      assert.equal(nano / 1e9, hearth.total.costUsd);
    });

    test("without groupBy rows are by day and model; filter[dim][values] keeps the rows of the values given", async () => {
      const byModel = await usage(`${range}&usageType=SERVERLESS`);
      assert.deepEqual(
        byModel.serverlessCosts.map((r) => [r.group, r.promptTokens, r.apiKeyId]),
        [[{ model_name: PUBLIC }, "33", undefined]],
      );
      const named = await usage(`${range}&groupBy=model_name&filter[api_key_name][values]=ci-runner`);
      assert.deepEqual(
        named.serverlessCosts.map((r) => r.promptTokens),
        ["22"],
      );
      const either = await usage(`${range}&groupBy=api_key_id&filter[api_key_id][values]=${bot.keyId}&filter[api_key_id][values]=nope`);
      assert.deepEqual(
        either.serverlessCosts.map((r) => r.group.api_key_id),
        [bot.keyId],
      );
      assert.deepEqual((await usage(`${range}&groupBy=model_name&filter[model_name][values]=accounts/x/models/other`)).serverlessCosts, []);
      const commas = await usage(`${range}&group_by=model_name,api_key_id`);
      assert.deepEqual(
        Object.keys(commas.serverlessCosts[0]!.group).sort(),
        ["api_key_id", "model_name"],
        "a comma-separated groupBy, under its proto name too",
      );
      const hearth = (await get(`${range}&group_by=day`)).body as BillingUsage;
      assert.equal(hearth.usage[0]!.day, today, "Hearth's dimension under the proto name stays Hearth's report");
    });

    test("DEDICATED_DEPLOYMENT and TRAINING answer empty lists, grouped by Fireworks' dedicated dimensions too (Hearth meters no accelerator time)", async () => {
      for (const type of ["DEDICATED_DEPLOYMENT", "TRAINING"]) {
        assert.deepEqual(await usage(`${range}&usageType=${type}`), { serverlessCosts: [], dedicatedCosts: [], trainingCosts: [] });
      }
      const dedicated = await usage(`${range}&usageType=DEDICATED_DEPLOYMENT&groupBy=deployment_name&groupBy=accelerator_type`);
      assert.deepEqual(dedicated.dedicatedCosts, []);
      const all = await usage(`${range}&usageType=USAGE_TYPE_UNSPECIFIED`);
      assert.equal(all.serverlessCosts.length, 1);
    });

    test("what Hearth cannot fill is a 400 naming it, never dropped: dedicated dimensions of serverless usage, annotations, another timezone, over 31 days", async () => {
      await refused(`${range}&usageType=SERVERLESS&groupBy=deployment_name`, /groupBy: "deployment_name" is a dedicated deployment dimension/);
      await refused(`${range}&groupBy=model_name&groupBy=accelerator_type`, /accelerator_type/);
      await refused(`${range}&filter[deployment_name][values]=accounts/my-account/deployments/d`, /filter: "deployment_name"/);
      await refused(`${range}&groupBy=annotations.team`, /annotations\.team.*annotations/);
      await refused(`${range}&groupBy=model_name&groupBy=region`, /unknown dimension "region"/);
      await refused(`${range}&groupBy=model_name&groupBy=model_name`, /groupBy names a dimension twice/);
      await refused(`${range}&usageType=SERVERLESS&timezone=America/Los_Angeles`, /timezone "America\/Los_Angeles".*UTC/);
      assert.equal((await get(`${range}&usageType=SERVERLESS&timezone=UTC`)).status, 200);
      await refused(`startTime=2026-01-01T00:00:00Z&endTime=2026-02-02T00:00:00Z&usageType=SERVERLESS`, /not be more than 31 days/);
      await refused(`startTime=${today}T00:00:00Z&usageType=SERVERLESS`, /endTime/);
      await refused(`${range}&usageType=ON_DEMAND`, /usageType/);
      await refused(`${range}&usageType=SERVERLESS&pageSize=5`, /unknown query parameter "pageSize"/);
    });

    test("a principal that may not list others' keys sees its own key by id and name, the others' summed without them; filtering by another's key finds nothing", async () => {
      const viewer = await h.call("POST", `${A}/users?userId=viewer`, { body: { serviceAccount: true, role: "inference-user" } });
      assert.equal(viewer.status, 200, JSON.stringify(viewer.body));
      const made = await h.call("POST", `${A}/users/viewer/apiKeys`, { body: { apiKey: { displayName: "viewer-key" } } });
      assert.equal((await infer(h, made.body.key, chat(PUBLIC))).status, 200);
      const got = await usage(`${range}&groupBy=api_key_id&groupBy=api_key_name`, made.body.key);
      assert.ok(!JSON.stringify(got).includes(bot.keyId) && !JSON.stringify(got).includes("ci-runner"), JSON.stringify(got));
      assert.deepEqual(
        got.serverlessCosts.map((r) => r.group).sort((a, b) => Object.keys(a).length - Object.keys(b).length),
        [{}, { api_key_id: made.body.keyId, api_key_name: "viewer-key" }],
      );
      assert.deepEqual(got.serverlessCosts.map((r) => r.promptTokens).sort(), ["11", "33"]);
      assert.deepEqual((await usage(`${range}&filter[api_key_id][values]=${bot.keyId}`, made.body.key)).serverlessCosts, []);
    });

    test("Hearth's own report stays as it was; asked with a range alone it carries Fireworks' serverlessCosts by model as well", async () => {
      const grouped = (await get(`${range}&groupBy=day,model`)).body as BillingUsage;
      assert.deepEqual(Object.keys(grouped).sort(), ["endTime", "startTime", "total", "usage"]);
      const bare = (await get(range)).body as BillingUsage & AccountUsage;
      assert.ok(bare.usage.length > 0 && bare.total.requestCount > 0);
      assert.deepEqual(
        bare.serverlessCosts.map((r) => r.group),
        [{ model_name: PUBLIC }],
      );
      assert.equal(bare.serverlessCosts[0]!.promptTokens, String(bare.total.promptTokens));
      assert.deepEqual([bare.dedicatedCosts, bare.trainingCosts], [[], []]);
    });
  });
}
