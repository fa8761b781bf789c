import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { callJson } from "./support/cluster-modes.ts";
import { DIALECTS } from "./support/hearth.ts";
import { processHearth, type ProcessHearth } from "./support/process.ts";
import { startUpstream } from "./support/upstream.ts";

/**
 * A key's own monthly spend is shared by the keys made or rotated through it, and counted from
 * metered usage when a server starts. The count must survive the deletion of the key that spent it
 * (keys are deleted for real; the usage rows stay) and a restart of `hearth serve`: otherwise a
 * holder could mint a child, spend through it, delete it and get the budget again at the next
 * deploy. Regression for a finding of the review of shared key counters.
 */
for (const dialect of DIALECTS) {
  describe(`shared key spend across a restart, after keys were deleted (${dialect})`, () => {
    let hearth: ProcessHearth;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let admin = "";
    const A = "/v1/accounts/my-account";
    // The upstream reports 3 prompt tokens and 1 completion token: "dollar" costs $1 a call.
    const dollar = { model: "accounts/fireworks/models/dollar", messages: [{ role: "user", content: "hi" }], max_tokens: 1 };
    const infer = async (key: string) =>
      (
        await fetch(`${hearth.server!.baseUrl}/inference/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify(dollar),
        })
      ).status;
    const call = (method: string, path: string, key: string, body?: unknown) => callJson(hearth.server!.baseUrl, key, method, path, body);
    /** Waits until billing shows `usd` metered to the account (usage is written behind the responses). */
    const meteredTo = async (usd: number) => {
      const since = new Date(Date.now() - 86_400_000).toISOString();
      for (let i = 0; i < 250; i++) {
        const usage = await call("GET", `${A}/billingUsage?startTime=${since}`, admin);
        if ((usage.body.total?.costUsd ?? 0) >= usd) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail(`$${usd} was not metered`);
    };
    const restart = async () => {
      assert.equal(await hearth.server!.stop(), 0);
      await hearth.serve();
    };

    before(async () => {
      upstream = await startUpstream();
      hearth = await processHearth(dialect);
      const config = join(hearth.dataDir, "platform.json");
      const models = [{ id: "dollar", upstreamModel: "tiny", outputPricePerMillionTokens: 1_000_000, maxCostPerRequestUsd: 1 }];
      writeFileSync(config, JSON.stringify({ publicAccountId: "fireworks", backends: [{ name: "local", baseUrl: upstream.baseUrl, models }] }));
      hearth.env.HEARTH_CONFIG = config;
      await hearth.serve();
      admin = hearth.adminKey();
      assert.equal((await call("POST", `${A}/users?userId=bot`, admin, { serviceAccount: true })).status, 200);
    });
    after(async () => {
      await hearth.close();
      upstream.server.close();
    });

    test("a child made through a $2 key spends the $2 and is deleted: after a restart the parent is still refused", async () => {
      const parent = await call("POST", `${A}/users/bot/apiKeys`, admin, { apiKey: { displayName: "parent", monthlySpendUsd: 2 } });
      assert.equal(parent.status, 200, JSON.stringify(parent.body));
      const child = await call("POST", `${A}/users/bot/apiKeys`, parent.body.key, { apiKey: { displayName: "child" } });
      assert.equal(child.status, 200, JSON.stringify(child.body));
      assert.deepEqual([await infer(child.body.key), await infer(child.body.key), await infer(child.body.key)], [200, 200, 402]);
      await meteredTo(2);
      assert.equal((await call("DELETE", `${A}/users/bot/apiKeys/${child.body.keyId}`, parent.body.key)).status, 200);
      await restart();
      assert.equal(await infer(parent.body.key), 402, "the $2 was spent this month, by a key since deleted");
    });

    test("a rotation chain whose spent keys were deleted keeps their spend after a restart", async () => {
      const first = await call("POST", `${A}/users/bot/apiKeys`, admin, { apiKey: { displayName: "rotated", monthlySpendUsd: 2 } });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const rotate = async (keyId: string) => {
        const res = await call("POST", `${A}/users/bot/apiKeys/${keyId}:rotate`, admin, { gracePeriod: "0s" });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body as { key: string; keyId: string };
      };
      const second = await rotate(first.body.keyId);
      assert.deepEqual([await infer(second.key), await infer(second.key), await infer(second.key)], [200, 200, 402]);
      await meteredTo(4);
      const third = await rotate(second.keyId);
      for (const id of [first.body.keyId, second.keyId]) assert.equal((await call("DELETE", `${A}/users/bot/apiKeys/${id}`, admin)).status, 200);
      await restart();
      assert.equal(await infer(third.key), 402);
    });
  });
}
