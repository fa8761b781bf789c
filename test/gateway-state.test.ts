import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase, type TestHearth } from "./support/hearth.ts";
import { account, chat as chatBody, infer as inferIn, startPlatform } from "./support/platform.ts";
import { hearth, serve, type Served } from "./support/process.ts";
import { startUpstream } from "./support/upstream.ts";
import { CLUSTER_MODES, callJson } from "./support/cluster-modes.ts";

/**
 * The gateway keeps what it reads per call in memory (an account's quotas, models and deployments;
 * a key's own limits come with the key): three real `hearth serve` processes on one PostgreSQL —
 * coordinating through PostgreSQL alone, and again through Redis — must see a change on the next
 * request of the process that made it and within a second on the others; and a key's own `rpm`,
 * `tpm` and `monthlySpendUsd` must hold exactly across the three.
 */

const PUBLIC = "accounts/fireworks/models/tiny-public";

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "hi" }], ...extra });

/** Milliseconds until `check` holds on `base` (polled every 20 ms, given up after 5 s: -1). */
async function heldAfter(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 5000) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

/** A run that straddles a minute boundary would see the previous minute weighted in: start early in one. */
async function earlyInAMinute(): Promise<void> {
  const second = new Date().getSeconds();
  if (second > 40) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
}

for (const mode of CLUSTER_MODES) {
  describe(`gateway state across three processes, coordinated by ${mode.name}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    const procs: Served[] = [];
    let admin = "";
    let env: Record<string, string> = {};
    const accountId = `gw-${randomBytes(4).toString("hex")}`;
    const A = `/v1/accounts/${accountId}`;
    const bases = () => procs.map((p) => p.baseUrl) as [string, string, string];
    const infer = (base: string, key: string, model: string, extra: Record<string, unknown> = {}) =>
      callJson(base, key, "POST", "/inference/v1/chat/completions", chat(model, extra));

    /** A service account's key with the given restrictions. */
    async function keyWith(userId: string, restrictions: Record<string, unknown>): Promise<{ key: string; keyId: string }> {
      const [p1] = bases();
      assert.equal((await callJson(p1, admin, "POST", `${A}/users?userId=${userId}`, { serviceAccount: true })).status, 200);
      const made = await callJson(p1, admin, "POST", `${A}/users/${userId}/apiKeys`, { apiKey: restrictions });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      return { key: made.body.key, keyId: made.body.keyId };
    }

    before(async () => {
      db = await freshDatabase("postgres");
      upstream = await startUpstream();
      const configFile = join(db.dataDir, "platform.json");
      // The upstream reports 3 prompt tokens and 1 completion token: "dollar" costs $1 a call.
      const models = [{ id: "tiny" }, { id: "dollar", upstreamModel: "tiny", outputPricePerMillionTokens: 1_000_000, maxCostPerRequestUsd: 1 }];
      writeFileSync(configFile, JSON.stringify({ backends: [{ name: "local", baseUrl: upstream.baseUrl, models }] }));
      env = { ...db.env, ...mode.env, HEARTH_ACCOUNT_ID: accountId, HEARTH_CONFIG: configFile, HEARTH_LOG_LEVEL: "warn" };
      procs.push(await serve(env));
      procs.push(...(await Promise.all([serve(env), serve(env)])));
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      upstream.server.close();
      await db.drop();
    });

    test("a quota changed through one process applies to its next request, and within a second on the others", async () => {
      const [p1, p2, p3] = bases();
      const tiny = "accounts/fireworks/models/tiny";
      // Every process has the account's quotas in memory.
      for (const base of [p1, p2, p3]) assert.equal((await infer(base, admin, tiny)).status, 200);
      assert.equal((await callJson(p1, admin, "PATCH", `${A}/quotas/monthly-spend-usd`, { value: 0 })).status, 200);
      const refused = await infer(p1, admin, tiny);
      assert.equal(refused.status, 402, "the process that made the change, on its next request");
      assert.match(refused.body.error.message, /quota "monthly-spend-usd" exceeded: .* of \$0$/);
      for (const base of [p2, p3]) {
        const after = await heldAfter(async () => (await infer(base, admin, tiny)).status === 402);
        assert.ok(after >= 0 && after <= 1000, `${base} applied the new quota after ${after} ms`);
      }
      assert.equal((await callJson(p2, admin, "PATCH", `${A}/quotas/monthly-spend-usd`, { value: 1000 })).status, 200);
      assert.equal((await infer(p2, admin, tiny)).status, 200);
      for (const base of [p1, p3]) {
        const after = await heldAfter(async () => (await infer(base, admin, tiny)).status === 200);
        assert.ok(after >= 0 && after <= 1000, `${base} applied the raised quota after ${after} ms`);
      }
    });

    test("an operator's `hearth account quota set`, run outside the servers, reaches all three within a second", async () => {
      const tiny = "accounts/fireworks/models/tiny";
      for (const base of bases()) assert.equal((await infer(base, admin, tiny)).status, 200);
      assert.equal((await hearth(["account", "quota", "set", accountId, "monthly-spend-usd", "--max", "0"], env)).code, 0);
      for (const base of bases()) {
        const after = await heldAfter(async () => (await infer(base, admin, tiny)).status === 402);
        assert.ok(after >= 0 && after <= 1000, `${base} applied the operator's maximum after ${after} ms`);
      }
      assert.equal((await hearth(["account", "quota", "set", accountId, "monthly-spend-usd", "--max", "1000"], env)).code, 0);
      for (const base of bases()) {
        const after = await heldAfter(async () => (await infer(base, admin, tiny)).status === 200);
        assert.ok(after >= 0 && after <= 1000, `${base} applied the raised maximum after ${after} ms`);
      }
    });

    test("a model and a deployment created and deleted through one process are seen by its next request, and within a second by the others", async () => {
      const [p1, p2, p3] = bases();
      const mine = `accounts/${accountId}/models/mine`;
      const deployed = `accounts/${accountId}/deployments/mine-dep`;
      // Missing everywhere, and remembered as missing.
      for (const base of [p1, p2, p3]) assert.equal((await infer(base, admin, mine)).status, 404);
      const created = await callJson(p1, admin, "POST", `${A}/models?modelId=mine`, { model: { backend: "local", upstreamModel: "tiny" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal((await infer(p1, admin, mine)).status, 200);
      for (const base of [p2, p3]) {
        const after = await heldAfter(async () => (await infer(base, admin, mine)).status === 200);
        assert.ok(after >= 0 && after <= 1000, `${base} served the new model after ${after} ms`);
      }
      for (const base of [p1, p2, p3]) assert.equal((await infer(base, admin, deployed)).status, 404);
      const dep = await callJson(p2, admin, "POST", `${A}/deployments?deploymentId=mine-dep`, { baseModel: mine });
      assert.equal(dep.status, 200, JSON.stringify(dep.body));
      assert.equal(dep.body.state, "READY");
      assert.equal((await infer(p2, admin, deployed)).status, 200);
      for (const base of [p1, p3]) {
        const after = await heldAfter(async () => (await infer(base, admin, deployed)).status === 200);
        assert.ok(after >= 0 && after <= 1000, `${base} served the new deployment after ${after} ms`);
      }
      assert.equal((await callJson(p2, admin, "DELETE", `${A}/deployments/mine-dep?hard=true`)).status, 200);
      assert.equal((await infer(p2, admin, deployed)).status, 404);
      for (const base of [p1, p3]) {
        const after = await heldAfter(async () => (await infer(base, admin, deployed)).status === 404);
        assert.ok(after >= 0 && after <= 1000, `${base} refused the deleted deployment after ${after} ms`);
      }
      assert.equal((await callJson(p3, admin, "DELETE", `${A}/models/mine`)).status, 200);
      assert.equal((await infer(p3, admin, mine)).status, 404);
      for (const base of [p1, p2]) {
        const after = await heldAfter(async () => (await infer(base, admin, mine)).status === 404);
        assert.ok(after >= 0 && after <= 1000, `${base} refused the deleted model after ${after} ms`);
      }
    });

    test("a key's rpm of 5 admits exactly 5 of 30 requests spread over the three processes", async () => {
      await earlyInAMinute();
      const { key } = await keyWith("paced", { rpm: 5 });
      const before = upstream.requests();
      const answers: Array<{ status: number; body: any }> = [];
      let next = 0;
      const worker = async () => {
        while (next < 30) {
          const i = next++;
          answers.push(await infer(procs[i % 3]!.baseUrl, key, "accounts/fireworks/models/tiny"));
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      assert.equal(answers.filter((a) => a.status === 200).length, 5);
      const refused = answers.filter((a) => a.status !== 200);
      assert.ok(refused.every((a) => a.status === 429 && a.body.error.code === "rate_limit_exceeded"));
      assert.match(refused[0]!.body.error.message, /API key limit "rpm" exceeded: the key may send 5 inference requests per minute/);
      assert.equal(upstream.requests() - before, 5, "refused requests never reach the upstream");
    });

    test("a key's tpm holds max_tokens while a call runs and keeps only the tokens it used, across the three processes", async () => {
      await earlyInAMinute();
      // Each call reserves its prompt estimate (8 tokens) + max_tokens 30 = 38 of 50, and uses 4.
      const { key } = await keyWith("tokens", { tpm: 50 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await infer(procs[i % 3]!.baseUrl, key, "accounts/fireworks/models/tiny", { max_tokens: 30 })).status);
      // 0+38, 4+38, 8+38, 12+38 fit in 50; 16+38 does not. Without reconciliation only the first would.
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
      const refused = await infer(procs[2]!.baseUrl, key, "accounts/fireworks/models/tiny", { max_tokens: 30 });
      assert.match(refused.body.error.message, /API key limit "tpm" exceeded: the key may use 50 tokens per minute and this request reserves 38/);
    });

    test("a key's monthlySpendUsd of 3 admits exactly 3 of 30 concurrent $1 calls over the three processes, and they are metered; its successor goes on from them", async () => {
      const { key, keyId } = await keyWith("budgeted", { monthlySpendUsd: 3 });
      const before = upstream.requests();
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => infer(procs[i % 3]!.baseUrl, key, "accounts/fireworks/models/dollar", { max_tokens: 1 })),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 3);
      const refused = answers.filter((a) => a.status !== 200);
      assert.ok(refused.every((a) => a.status === 402 && a.body.error.code === "insufficient_quota"));
      assert.match(refused[0]!.body.error.message, /API key limit "monthlySpendUsd" exceeded: .* of \$3$/);
      assert.equal(upstream.requests() - before, 3);
      // Metered behind the responses, each process's batch within 100 ms.
      const since = new Date(Date.now() - 86_400_000).toISOString();
      let cost = 0;
      const after = await heldAfter(async () => {
        const usage = await callJson(procs[0]!.baseUrl, admin, "GET", `${A}/billingUsage?startTime=${since}&groupBy=apiKey`);
        cost = usage.body.usage?.find((g: any) => g.apiKeyId === keyId)?.costUsd ?? 0;
        return cost === 3;
      });
      assert.ok(after >= 0, `the key's metered cost is $${cost}`);
      // The spend is metered now, no longer held: still refused.
      assert.equal((await infer(procs[1]!.baseUrl, key, "accounts/fireworks/models/dollar", { max_tokens: 1 })).status, 402);
      // Rotated through one process, the successor is refused by the others: it goes on from the old key's spend.
      const rotated = await callJson(procs[2]!.baseUrl, admin, "POST", `${A}/users/budgeted/apiKeys/${keyId}:rotate`, {});
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      for (const p of procs) assert.equal((await infer(p.baseUrl, rotated.body.key, "accounts/fireworks/models/dollar", { max_tokens: 1 })).status, 402);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a key's own limits in one process (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    /** An account with an admin and one service account whose key carries `restrictions`. */
    async function keyed(accountId: string, restrictions: Record<string, unknown>): Promise<{ admin: string; key: string }> {
      const { admin } = await account(h, accountId, {});
      assert.equal((await h.call("POST", `/v1/accounts/${accountId}/users?userId=bot`, { key: admin, body: { serviceAccount: true } })).status, 200);
      const made = await h.call("POST", `/v1/accounts/${accountId}/users/bot/apiKeys`, { key: admin, body: { apiKey: restrictions } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      return { admin, key: made.body.key };
    }

    /** Creates the account's model "dollar", priced at $1 for each completion token (a `max_tokens: 1` call costs $1); its name. */
    async function dollarModel(accountId: string, admin: string): Promise<string> {
      const priced = await h.call("POST", `/v1/accounts/${accountId}/models?modelId=dollar`, {
        key: admin,
        body: { model: { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 0, outputPricePerMillionTokens: 1_000_000 } },
      });
      assert.equal(priced.status, 200, JSON.stringify(priced.body));
      return `accounts/${accountId}/models/dollar`;
    }

    test("a key's rpm refuses inside the account's quota, and a refused request takes nothing from the account's window", async () => {
      await earlyInAMinute();
      const { admin, key } = await keyed("rpm-key-acct", { rpm: 2 });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await inferIn(h, key, chatBody(PUBLIC))).status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      const quota = await h.call("GET", "/v1/accounts/rpm-key-acct/quotas/serverless-inference-rpm", { key: admin });
      assert.equal(quota.body.usage, 2, "only the admitted requests count toward the account");
    });

    test("a key's tpm reconciles each call to the tokens it used, also beyond what it reserved", async () => {
      await earlyInAMinute();
      // Each call reserves 8 (prompt estimate) + 7 (max_tokens) = 15 and is billed 18 by the backend.
      const { key } = await keyed("tpm-key-acct", { tpm: 100 });
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await inferIn(h, key, chatBody(PUBLIC, "hi", { max_tokens: 7 }))).status);
      // 18 × 5 = 90 used; 90 + 15 > 100.
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    });

    test("a key's monthlySpendUsd refuses inside the account's budget, naming the key's limit", async () => {
      const { admin, key } = await keyed("spend-key-acct", { monthlySpendUsd: 2 });
      const model = await dollarModel("spend-key-acct", admin);
      assert.equal((await inferIn(h, key, chatBody(model, "hi", { max_tokens: 1 }))).status, 200);
      assert.equal((await inferIn(h, key, chatBody(model, "hi", { max_tokens: 1 }))).status, 200);
      const refused = await inferIn(h, key, chatBody(model, "hi", { max_tokens: 1 }));
      assert.equal(refused.status, 402);
      assert.match(((await refused.json()) as any).error.message, /^API key limit "monthlySpendUsd" exceeded: \$2\.000000 spent this month of \$2$/);
      assert.equal((await inferIn(h, admin, chatBody(model, "hi", { max_tokens: 1 }))).status, 200, "the account's other keys still spend");
    });

    /** Rotates key `keyId` of the service account `bot` of `accountId` (default grace: a day); the successor's secret and id. */
    async function rotate(accountId: string, admin: string, keyId: string): Promise<{ key: string; keyId: string }> {
      const res = await h.call("POST", `/v1/accounts/${accountId}/users/bot/apiKeys/${keyId}:rotate`, { key: admin, body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }
    const firstKeyId = async (accountId: string, admin: string): Promise<string> =>
      (await h.call("GET", `/v1/accounts/${accountId}/users/bot/apiKeys`, { key: admin })).body.apiKeys[0].keyId;

    test("rotating a key is not a fresh budget: its successor, and the successor's successor, go on from the old key's monthly spend", async () => {
      const { admin, key } = await keyed("rotate-spend-acct", { monthlySpendUsd: 2 });
      const dollar = chatBody(await dollarModel("rotate-spend-acct", admin), "hi", { max_tokens: 1 });
      const first = await firstKeyId("rotate-spend-acct", admin);
      assert.equal((await inferIn(h, key, dollar)).status, 200, "$1 of $2 through the first key");
      const second = await rotate("rotate-spend-acct", admin, first);
      assert.equal((await inferIn(h, second.key, dollar)).status, 200, "$2 of $2 through its successor");
      const refused = await inferIn(h, second.key, dollar);
      assert.equal(refused.status, 402);
      assert.match(((await refused.json()) as any).error.message, /^API key limit "monthlySpendUsd" exceeded: \$2\.000000 spent this month of \$2$/);
      assert.equal((await inferIn(h, key, dollar)).status, 402, "the old key, in its grace period, shares the count");
      const third = await rotate("rotate-spend-acct", admin, second.keyId);
      assert.equal((await inferIn(h, third.key, dollar)).status, 402, "the spend goes on along the chain");
      // Billing still shows each key's own spend (metered behind the responses: polled).
      const since = new Date(Date.now() - 86_400_000).toISOString();
      let costs: number[] = [];
      const metered = await heldAfter(async () => {
        const usage = await h.call("GET", `/v1/accounts/rotate-spend-acct/billingUsage?startTime=${since}&groupBy=apiKey`, { key: admin });
        costs = [first, second.keyId, third.keyId].map((id) => usage.body.usage?.find((g: any) => g.apiKeyId === id)?.costUsd ?? 0);
        return costs[0] === 1 && costs[1] === 1;
      });
      assert.ok(metered >= 0, `each key's own cost: ${costs.join(", ")}`);
      assert.equal(costs[2], 0);
    });

    test("rotating a key does not restart its rpm: the successor shares the old key's minute", async () => {
      await earlyInAMinute();
      const { admin, key } = await keyed("rotate-rpm-acct", { rpm: 2 });
      assert.equal((await inferIn(h, key, chatBody(PUBLIC))).status, 200);
      const second = await rotate("rotate-rpm-acct", admin, await firstKeyId("rotate-rpm-acct", admin));
      assert.equal((await inferIn(h, second.key, chatBody(PUBLIC))).status, 200);
      const paced = await inferIn(h, second.key, chatBody(PUBLIC));
      assert.equal(paced.status, 429);
      assert.match(((await paced.json()) as any).error.message, /API key limit "rpm" exceeded: the key may send 2 inference requests per minute/);
      assert.equal((await inferIn(h, key, chatBody(PUBLIC))).status, 429, "nor the old key's, in its grace period");
    });

    test("keys made through a key with limits share its counters: minting keys never multiplies its monthly spend", async () => {
      await earlyInAMinute();
      const { admin, key } = await keyed("mint-acct", { rpm: 3, monthlySpendUsd: 2 });
      const dollar = chatBody(await dollarModel("mint-acct", admin), "hi", { max_tokens: 1 });
      // Two children through the key: one inheriting its limits, one with a narrower spend.
      const mint = async (apiKey: Record<string, unknown>) => {
        const made = await h.call("POST", "/v1/accounts/mint-acct/users/bot/apiKeys", { key, body: { apiKey } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        return made.body.key as string;
      };
      const inherits = await mint({ displayName: "inherits" });
      const narrower = await mint({ displayName: "narrower", monthlySpendUsd: 1 });
      assert.equal((await inferIn(h, key, dollar)).status, 200, "$1 through the parent");
      const refusal = await inferIn(h, narrower, dollar);
      assert.equal(refusal.status, 402, "the narrower child's $1 is reached by the shared count");
      assert.match(((await refusal.json()) as any).error.message, /^API key limit "monthlySpendUsd" exceeded: \$1\.000000 spent this month of \$1$/);
      assert.equal((await inferIn(h, inherits, dollar)).status, 200, "$2 through the child that inherits the $2");
      for (const k of [key, inherits]) assert.equal((await inferIn(h, k, dollar)).status, 402, "the parent's $2 is spent, for all of them");
      assert.equal((await inferIn(h, admin, dollar)).status, 200, "the account's own keys are not in the count");
    });

    test("through a key with limits, only keys sharing its counters may be rotated: another key's successor would be a budget of its own", async () => {
      const { admin } = await keyed("rotate-through-acct", {});
      const users = (await h.call("GET", "/v1/accounts/rotate-through-acct/users", { key: admin })).body.users as any[];
      const adminUser = users
        .find((u) => !u.serviceAccount)
        .name.split("/")
        .at(-1);
      const make = async (userId: string, key: string, apiKey: Record<string, unknown>) => {
        const made = await h.call("POST", `/v1/accounts/rotate-through-acct/users/${userId}/apiKeys`, { key, body: { apiKey } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        return made.body as { key: string; keyId: string };
      };
      const limited = await make(adminUser, admin, { displayName: "limited admin key", monthlySpendUsd: 1 });
      const other = await make("bot", admin, { displayName: "ci", monthlySpendUsd: 1 });
      const path = (keyId: string) => `/v1/accounts/rotate-through-acct/users/bot/apiKeys/${keyId}:rotate`;
      const refused = await h.call("POST", path(other.keyId), { key: limited.key, body: { gracePeriod: "0s" } });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, new RegExp(`may rotate only keys that share its counters .*API key "${other.keyId}" does not`));
      const audit = await h.call("GET", `/v1/accounts/rotate-through-acct/auditLogs?filter=${encodeURIComponent('method="RotateApiKey"')}`, { key: admin });
      assert.equal(audit.body.auditLogs[0].status.code, "PERMISSION_DENIED", "the refusal is audited");
      // A key made through the limited key shares its counters, so it rotates, and its successor still shares them.
      const child = await make("bot", limited.key, { displayName: "child" });
      assert.equal((await h.call("POST", path(child.keyId), { key: limited.key, body: { gracePeriod: "0s" } })).status, 200);
    });

    test("a key made through a key with an rpm shares its minute", async () => {
      await earlyInAMinute();
      const { key } = await keyed("mint-rpm-acct", { rpm: 2 });
      const made = await h.call("POST", "/v1/accounts/mint-rpm-acct/users/bot/apiKeys", { key, body: { apiKey: { displayName: "child" } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.rpm, 2, "inherited");
      assert.equal((await inferIn(h, key, chatBody(PUBLIC))).status, 200);
      assert.equal((await inferIn(h, made.body.key, chatBody(PUBLIC))).status, 200);
      for (const k of [made.body.key, key]) {
        const paced = await inferIn(h, k, chatBody(PUBLIC));
        assert.equal(paced.status, 429);
        assert.match(((await paced.json()) as any).error.message, /API key limit "rpm" exceeded: the key may send 2 inference requests per minute/);
      }
    });
  });
}
