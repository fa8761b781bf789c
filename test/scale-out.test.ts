import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freshDatabase } from "./support/hearth.ts";
import { serve, type Served } from "./support/process.ts";
import { startUpstream } from "./support/upstream.ts";
import { CLUSTER_MODES, callJson } from "./support/cluster-modes.ts";
import { until } from "./support/until.ts";

/**
 * Three real `hearth serve` processes on one PostgreSQL — coordinating through PostgreSQL alone,
 * and again through Redis — must behave as one: a key deleted on one is refused by all within a
 * second, and an account-wide request limit holds across all three.
 */

for (const mode of CLUSTER_MODES) {
  describe(`three processes on one PostgreSQL, coordinated by ${mode.name}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let procs: Served[] = [];
    let admin = "";
    let env: Record<string, string> = {};
    const accountId = `scale-${randomBytes(4).toString("hex")}`;
    const A = `/v1/accounts/${accountId}`;

    before(async () => {
      db = await freshDatabase("postgres");
      upstream = await startUpstream();
      const configFile = join(db.dataDir, "platform.json");
      // The upstream reports 3 prompt tokens and 1 completion token: "dollar" costs $1 a call, "cent" $0.03.
      const models = [
        { id: "tiny" },
        { id: "dollar", upstreamModel: "tiny", outputPricePerMillionTokens: 1_000_000, maxCostPerRequestUsd: 1 },
        { id: "cent", upstreamModel: "tiny", inputPricePerMillionTokens: 10_000, maxCostPerRequestUsd: 0.03 },
      ];
      writeFileSync(configFile, JSON.stringify({ backends: [{ name: "local", baseUrl: upstream.baseUrl, models }] }));
      env = { ...db.env, ...mode.env, HEARTH_ACCOUNT_ID: accountId, HEARTH_CONFIG: configFile, HEARTH_LOG_LEVEL: "warn" };
      // The first process bootstraps the account; the others find it.
      procs.push(await serve(env));
      procs.push(...(await Promise.all([serve(env), serve(env)])));
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      upstream.server.close();
      await db.drop();
    });

    test("a key deleted through process 1 is refused by processes 2 and 3 within one second", async () => {
      const [p1, p2, p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      assert.equal((await callJson(p1, admin, "POST", `${A}/users?userId=roaming`, { serviceAccount: true })).status, 200);
      const made = await callJson(p1, admin, "POST", `${A}/users/roaming/apiKeys`, { apiKey: {} });
      assert.equal(made.status, 200);
      for (const base of [p2, p3]) {
        for (let i = 0; i < 3; i++) assert.equal((await callJson(base, made.body.key, "GET", "/verifyApiKey")).status, 200, "cached as valid");
      }
      assert.equal((await callJson(p1, admin, "DELETE", `${A}/users/roaming/apiKeys/${made.body.keyId}`)).status, 200);
      const deleted = Date.now();
      for (const base of [p2, p3]) {
        let refusedAfter = -1;
        while (Date.now() - deleted < 5000) {
          if ((await callJson(base, made.body.key, "GET", "/verifyApiKey")).status === 401) {
            refusedAfter = Date.now() - deleted;
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(refusedAfter >= 0 && refusedAfter <= 1000, `${base} refused the key after ${refusedAfter} ms`);
      }
    });

    test("a role change through process 2 applies on processes 1 and 3 within one second", async () => {
      const [p1, p2, p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      await callJson(p1, admin, "POST", `${A}/users?userId=promoted`, { serviceAccount: true, role: "inference-user" });
      const { body } = await callJson(p1, admin, "POST", `${A}/users/promoted/apiKeys`, { apiKey: {} });
      for (const base of [p1, p3]) assert.equal((await callJson(base, body.key, "GET", `${A}/quotas`)).status, 200);
      assert.equal((await callJson(p2, admin, "PATCH", `${A}/users/promoted`, { role: "admin" })).status, 200);
      const changed = Date.now();
      for (const base of [p1, p3]) {
        let role = "";
        while (Date.now() - changed < 5000) {
          const res = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${body.key}` } });
          role = res.headers.get("x-hearth-role") ?? "";
          if (role === "admin") break;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(role, "admin");
        assert.ok(Date.now() - changed <= 1000);
      }
    });

    test("300 requests spread over the three processes against an RPM limit of 100 admit exactly 100", async () => {
      // A run that straddles a minute boundary would see the previous minute weighted in: start early in one.
      const second = new Date().getSeconds();
      if (second > 45) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
      assert.equal((await callJson(procs[0]!.baseUrl, admin, "PATCH", `${A}/quotas/serverless-inference-rpm`, { value: 100 })).status, 200);
      const before = upstream.requests();
      const statuses: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < 300) {
          const i = next++;
          const res = await callJson(procs[i % 3]!.baseUrl, admin, "POST", "/inference/v1/chat/completions", {
            model: "accounts/fireworks/models/tiny",
            messages: [{ role: "user", content: "hi" }],
          });
          statuses.push(res.status);
        }
      };
      await Promise.all(Array.from({ length: 30 }, worker));
      assert.equal(statuses.filter((s) => s === 200).length, 100);
      assert.equal(statuses.filter((s) => s === 429).length, 200);
      assert.equal(upstream.requests() - before, 100, "refused requests never reach the upstream");
    });

    test("30 concurrent $1 calls over the three processes against monthly-spend-usd 6 with $3.03 spent admit at most 3", async () => {
      const [p1, p2, p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      assert.equal((await callJson(p1, admin, "PATCH", `${A}/quotas/serverless-inference-rpm`, { value: 6000 })).status, 200);
      assert.equal((await callJson(p2, admin, "PATCH", `${A}/quotas/monthly-spend-usd`, { value: 6 })).status, 200);
      const infer = (base: string, model: string) =>
        callJson(base, admin, "POST", "/inference/v1/chat/completions", {
          model: `accounts/fireworks/models/${model}`,
          messages: [{ role: "user", content: "hi" }],
        });
      // $3.03 spent, metered through all three.
      for (const [base, model] of [
        [p1, "dollar"],
        [p2, "dollar"],
        [p3, "dollar"],
        [p1, "cent"],
      ] as const)
        assert.equal((await infer(base, model)).status, 200);
      const before = upstream.requests();
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => infer(procs[i % 3]!.baseUrl, "dollar")));
      assert.equal(answers.filter((a) => a.status === 200).length, 3, "$3.03 + 3 × $1 reserved reaches the limit");
      assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.status === 402 && a.body.error.code === "insufficient_quota"));
      assert.equal(upstream.requests() - before, 3);
      // Each process writes its calls' usage behind the responses, within 100 ms: polled, not slept.
      let cost = 0;
      for (const started = Date.now(); cost !== 6.03 && Date.now() - started < 5000; await new Promise((r) => setTimeout(r, 20))) {
        cost = (await callJson(p3, admin, "GET", `${A}/billingUsage?startTime=${new Date(Date.now() - 86_400_000).toISOString()}`)).body.total.costUsd;
      }
      assert.equal(cost, 6.03);
    });

    test("killing one process loses no acknowledged write", async () => {
      const [p1, , p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      const acknowledged: string[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${i}`;
          try {
            const res = await callJson(procs[1]!.baseUrl, admin, "POST", `${A}/users?userId=${id}`, { serviceAccount: true });
            if (res.status === 200) acknowledged.push(id);
          } catch {
            return; // the process is gone
          }
        }
      };
      const writers = Array.from({ length: 4 }, (_, w) => writer(w));
      // The kill comes once writes are being acknowledged, however slow the machine.
      await until("ten acknowledged writes", async () => (acknowledged.length >= 10 ? true : undefined));
      await procs[1]!.stop("SIGKILL");
      stop = true;
      await Promise.all(writers);
      assert.ok(acknowledged.length > 0);
      const listed = new Set<string>();
      let token = "";
      do {
        const page = await callJson(
          p3,
          admin,
          "GET",
          `${A}/users?pageSize=200&filter=${encodeURIComponent('user_id:"w"')}${token ? `&pageToken=${token}` : ""}`,
        );
        for (const u of page.body.users) listed.add(u.name.split("/").pop());
        token = page.body.nextPageToken;
      } while (token);
      for (const id of acknowledged) assert.ok(listed.has(id), `acknowledged ${id} is missing`);
      // The survivors still serve.
      assert.equal((await callJson(p1, admin, "GET", "/readyz")).status, 200);
      procs[1] = await serve(env);
      assert.equal((await callJson(procs[1].baseUrl, admin, "GET", `${A}/users/${acknowledged[0]}`)).status, 200);
    });
  });
}
