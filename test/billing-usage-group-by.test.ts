import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { BillingUsage } from "../src/http/resources/billing-usage.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";

const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";

/** `GET …/billingUsage?groupBy=`: the metered usage of real calls through the gateway, regrouped. */
for (const dialect of DIALECTS) {
  describe(`billingUsage groupBy (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    const today = new Date().toISOString().slice(0, 10);

    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      const bot = await serviceAccountWithKey(h, "bot", "user");
      for (let i = 0; i < 2; i++) assert.equal((await infer(h, bot.key, chat(PUBLIC))).status, 200);
      assert.equal((await infer(h, h.adminKey, chat(PUBLIC))).status, 200);
    });
    after(async () => stop?.());

    const usage = async (query: string): Promise<BillingUsage> => {
      const res = await h.call("GET", `${A}/billingUsage${query}`, { key: h.adminKey });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as BillingUsage;
    };

    test("without groupBy a row per model, principal and key, as before; groupBy=day one row per UTC day with only the day", async () => {
      const all = await usage("");
      assert.equal(all.usage.length, 2);
      assert.ok(all.usage.every((u) => u.model === PUBLIC && u.principal && u.apiKeyId && u.day === undefined));
      const byDay = await usage("?groupBy=day");
      assert.deepEqual(byDay.usage, [{ day: today, ...all.total }]);
      assert.deepEqual(byDay.total, all.total);
    });

    test("groupBy=day,principal splits each day by principal, ordered by the dimensions given", async () => {
      const rows = (await usage("?groupBy=day,principal")).usage.map((u) => [u.day, u.principal, u.requestCount, u.model]);
      assert.deepEqual(rows, [
        [today, "admin@example.com", 1, undefined],
        [today, "bot@my-account.sa.hearth.local", 2, undefined],
      ]);
      const empty = await usage("?groupBy=day&startTime=2020-01-01T00:00:00Z&endTime=2020-01-02T00:00:00Z");
      assert.deepEqual(empty.usage, []);
    });

    test("reproduction: a principal that may not see others' API keys gets its own keys by id and the others' summed without ids", async () => {
      const viewer = await serviceAccountWithKey(h, "viewer-bot", "inference-user");
      assert.equal((await infer(h, viewer.key, chat(PUBLIC))).status, 200);
      const adminRows = (await usage("?groupBy=principal,apiKey")).usage;
      const adminKeyId = adminRows.find((u) => u.principal === "admin@example.com")!.apiKeyId!;
      assert.equal((await h.call("GET", `${A}/users/-/apiKeys/${adminKeyId}`, { key: viewer.key })).status, 404, "not probeable by id");
      const seen = async (query: string) => {
        const res = await h.call("GET", `${A}/billingUsage${query}`, { key: viewer.key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body as BillingUsage;
      };
      for (const query of ["", "?groupBy=apiKey", "?groupBy=principal,apiKey", "?groupBy=day,apiKey"]) {
        const got = await seen(query);
        const text = JSON.stringify(got);
        assert.ok(!text.includes(adminKeyId), `${query}: the admin's key id is not shown: ${text}`);
        assert.ok(text.includes(viewer.keyId), `${query}: its own key id is`);
        assert.equal(got.total.requestCount, 4, `${query}: every call still counts`);
        const mine = got.usage.filter((u) => u.apiKeyId === viewer.keyId);
        assert.equal(mine.length, 1);
        assert.equal(mine[0]!.requestCount, 1);
        const others = got.usage.filter((u) => u.apiKeyId === undefined);
        assert.equal(
          others.reduce((n, u) => n + u.requestCount, 0),
          3,
          `${query}: the others' calls, summed`,
        );
      }
      // Grouped by principal too, each other principal keeps its row, without its keys.
      const byPrincipal = (await seen("?groupBy=principal,apiKey")).usage.map((u) => [u.principal, u.apiKeyId, u.requestCount]);
      assert.deepEqual(byPrincipal, [
        ["admin@example.com", undefined, 1],
        ["bot@my-account.sa.hearth.local", undefined, 2],
        ["viewer-bot@my-account.sa.hearth.local", viewer.keyId, 1],
      ]);
      assert.equal((await seen("?groupBy=apiKey")).usage.length, 2, "one row for its key, one for everyone else's");
    });

    test("an unknown or repeated dimension is a 400 naming groupBy", async () => {
      for (const groupBy of ["week", "day,day", "", "Model"]) {
        const res = await h.call("GET", `${A}/billingUsage?groupBy=${groupBy}`, { key: h.adminKey });
        assert.equal(res.status, 400, groupBy);
        assert.equal(res.body.error.status, "INVALID_ARGUMENT");
        assert.match(res.body.error.message, /groupBy/, groupBy);
      }
    });
  });
}
