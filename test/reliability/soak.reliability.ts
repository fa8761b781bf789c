import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase } from "../support/hearth.ts";
import { startUpstream, writePlatformConfig, type FakeUpstream } from "../support/model-server.ts";
import { serve, type Served } from "../support/process.ts";
import { memoryAfterGc, report, request, rssOf, sleep } from "../support/reliability.ts";

/**
 * Soak: a steady, mixed load (key checks, lists, audit reads, inference, creates, role changes,
 * deletions) against a real `hearth serve` on each dialect at once, for HEARTH_RELIABILITY_SOAK_SECONDS
 * (default 120). Every request must get the answer it expects, the server must keep up with the
 * rate, and what it holds once warm must not grow: the live heap and the resident set are measured
 * after a forced full garbage collection when warm and at the end (sampled RSS is reported too).
 */
const SECONDS = Number(process.env.HEARTH_RELIABILITY_SOAK_SECONDS ?? 120);
const RATE = Number(process.env.HEARTH_RELIABILITY_SOAK_RATE ?? 40); // requests per second, per server
const WARMUP_S = Math.min(20, SECONDS / 4);
const HEAP_GROWTH_BOUND = 16 * 1024 * 1024;
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
const MODEL = "accounts/fireworks/models/tiny-public";
const A = "/v1/accounts/my-account";
const MiB = (n: number) => Math.round(n / 1024 / 1024);

interface Target {
  dialect: string;
  db: Awaited<ReturnType<typeof freshDatabase>>;
  s: Served;
  admin: string;
  readers: string[];
  pool: Array<{ id: string; keys: Array<{ keyId: string }> }>;
  seq: number;
}

for (const _ of [0]) {
  describe(`soak: ${SECONDS} s of steady mixed load on ${DIALECTS.join(" and ")} at once`, () => {
    let up: FakeUpstream;
    const targets: Target[] = [];

    before(async () => {
      up = await startUpstream();
      for (const dialect of DIALECTS) {
        const db = await freshDatabase(dialect);
        // The model server runs in this busy process: give it a generous time-out, so a 504 means Hearth.
        const config = writePlatformConfig(db.dataDir, up);
        const platform = JSON.parse(readFileSync(config, "utf8"));
        platform.backends[0].timeoutMs = 20_000;
        writeFileSync(config, JSON.stringify(platform));
        // The inspector (loopback only) lets the test force a full garbage collection before measuring.
        const env = { ...db.env, HEARTH_CONFIG: config, HEARTH_LOG_LEVEL: "warn", NODE_OPTIONS: "--inspect=127.0.0.1:0" };
        const s = await serve(env);
        const admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
        const readers: string[] = [];
        for (let i = 0; i < 8; i++) {
          const id = `reader-${i}`;
          assert.equal((await request(s.baseUrl, "POST", `${A}/users?userId=${id}`, { key: admin, body: { serviceAccount: true, role: "user" } })).status, 200);
          readers.push((await request(s.baseUrl, "POST", `${A}/users/${id}/apiKeys`, { key: admin, body: { apiKey: {} } })).body.key);
        }
        targets.push({ dialect, db, s, admin, readers, pool: [], seq: 0 });
      }
    });
    after(async () => {
      for (const t of targets) {
        await t.s.stop("SIGKILL");
        await t.db.drop();
      }
      await up.close();
    });

    /** One request of the mix; resolves to an error description, or undefined when it got what it expected. */
    async function one(t: Target, roll: number): Promise<string | undefined> {
      const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
      const expect = async (what: string, p: ReturnType<typeof request>, status = 200) => {
        const res = await p;
        return res.status === status ? undefined : `${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
      };
      if (roll < 0.4) return expect("verify", request(t.s.baseUrl, "GET", "/verifyApiKey", { key: pick(t.readers) }));
      if (roll < 0.52)
        return expect(
          "list users",
          request(t.s.baseUrl, "GET", `${A}/users?pageSize=20&filter=${encodeURIComponent("service_account=true AND role!=admin")}`, { key: pick(t.readers) }),
        );
      if (roll < 0.6) return expect("audit", request(t.s.baseUrl, "GET", `${A}/auditLogs?pageSize=50`, { key: t.admin }));
      if (roll < 0.7)
        return expect(
          "inference",
          request(t.s.baseUrl, "POST", "/inference/v1/chat/completions", {
            key: pick(t.readers),
            body: { model: MODEL, messages: [{ role: "user", content: "soak" }] },
          }),
        );
      // Creates and deletions balance around 30 service accounts (the quota allows 100).
      if ((roll < 0.8 && t.pool.length < 30) || t.pool.length < 3) {
        const id = `soak-${t.seq++}`;
        const made = await request(t.s.baseUrl, "POST", `${A}/users?userId=${id}`, { key: t.admin, body: { serviceAccount: true, role: "contributor" } });
        if (made.status !== 200) return `create user: ${made.status} ${JSON.stringify(made.body)}`;
        const key = await request(t.s.baseUrl, "POST", `${A}/users/${id}/apiKeys`, { key: t.admin, body: { apiKey: {} } });
        if (key.status !== 200) return `create key: ${key.status} ${JSON.stringify(key.body)}`;
        t.pool.push({ id, keys: [{ keyId: key.body.keyId }] });
        return undefined;
      }
      // A service account is taken out of the pool while it is worked on, so no two requests race on it.
      const entry = t.pool.splice(Math.floor(Math.random() * t.pool.length), 1)[0]!;
      if (roll < 0.86) {
        const error = await expect(
          "role change",
          request(t.s.baseUrl, "PATCH", `${A}/users/${entry.id}`, { key: t.admin, body: { role: pick(["user", "contributor", "inference-user"]) } }),
        );
        t.pool.push(entry);
        return error;
      }
      // Deletions keep the population steady: a key, or a whole service account.
      if (roll < 0.93 && entry.keys.length && t.pool.length < 30) {
        const key = entry.keys.pop()!;
        const error = await expect("delete key", request(t.s.baseUrl, "DELETE", `${A}/users/${entry.id}/apiKeys/${key.keyId}`, { key: t.admin }));
        t.pool.push(entry);
        return error;
      }
      return expect("delete user", request(t.s.baseUrl, "DELETE", `${A}/users/${entry.id}`, { key: t.admin }));
    }

    test("zero errors at a steady rate, and resident memory bounded once warm", async () => {
      const errors: string[] = [];
      const latencies: number[] = [];
      const rss = new Map<string, Array<{ t: number; bytes: number }>>(targets.map((t) => [t.dialect, []]));
      let inFlight = 0;
      let maxInFlight = 0;
      let sent = 0;
      const started = Date.now();
      const pending: Array<Promise<void>> = [];
      const sampler = setInterval(async () => {
        for (const t of targets) rss.get(t.dialect)!.push({ t: (Date.now() - started) / 1000, bytes: await rssOf(t.s.child.pid!) });
      }, 2000);
      // Open loop: requests leave on the clock whatever the answers do, so a stalling server shows.
      const interval = 1000 / RATE;
      let warm: Promise<Array<{ heapUsed: number; rss: number }>> | undefined;
      for (let tick = 0; Date.now() - started < SECONDS * 1000; tick++) {
        if (!warm && Date.now() - started >= WARMUP_S * 1000) warm = Promise.all(targets.map((t) => memoryAfterGc(t.s.output())));
        const due = started + tick * interval;
        if (due > Date.now()) await sleep(due - Date.now());
        for (const t of targets) {
          const roll = Math.random();
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          sent++;
          const begin = performance.now();
          const p = one(t, roll)
            .then((error) => {
              if (error) errors.push(`${t.dialect} ${error}`);
            })
            .catch((error: Error) => void errors.push(`${t.dialect} network: ${error.message}`))
            .finally(() => {
              inFlight--;
              latencies.push(performance.now() - begin);
            });
          pending.push(p);
        }
        if (pending.length > 500) await Promise.all(pending.splice(0, pending.length - 100));
      }
      await Promise.all(pending);
      clearInterval(sampler);
      const warmMemory = await warm!;
      const endMemory = await Promise.all(targets.map((t) => memoryAfterGc(t.s.output())));
      const elapsed = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const p50 = Math.round(latencies[Math.floor(latencies.length / 2)]!);
      const p99 = Math.round(latencies[Math.floor(latencies.length * 0.99)]!);
      const metrics: Record<string, number | string> = {
        "seconds of load": Math.round(elapsed),
        requests: sent,
        errors: errors.length,
        "p50 latency (ms)": p50,
        "p99 latency (ms)": p99,
        "most requests in flight at once": maxInFlight,
      };
      const growth: Array<{ dialect: string; heap: number; rss: number }> = [];
      for (const [i, t] of targets.entries()) {
        const samples = rss.get(t.dialect)!;
        const w = warmMemory[i]!;
        const e = endMemory[i]!;
        growth.push({ dialect: t.dialect, heap: e.heapUsed - w.heapUsed, rss: e.rss - w.rss });
        metrics[`${t.dialect} live heap after GC, warm → end (MiB)`] = `${MiB(w.heapUsed)} → ${MiB(e.heapUsed)} (bound +${MiB(HEAP_GROWTH_BOUND)})`;
        metrics[`${t.dialect} RSS after GC, warm → end (MiB)`] = `${MiB(w.rss)} → ${MiB(e.rss)} (bound +${MiB(RSS_GROWTH_BOUND)})`;
        metrics[`${t.dialect} RSS sampled every 10 s (MiB)`] = samples
          .filter((_, k) => k % 5 === 0)
          .map((x) => MiB(x.bytes))
          .join(" ");
        assert.equal((await request(t.s.baseUrl, "GET", "/healthz")).status, 200);
      }
      report("soak", metrics);
      assert.deepEqual(errors.slice(0, 20), [], `${errors.length} errors`);
      // Kept up: the backlog never reached three seconds of traffic (forced collections pause both servers briefly).
      assert.ok(maxInFlight < RATE * targets.length * 3, `the servers kept up (at most ${maxInFlight} requests in flight)`);
      for (const g of growth) {
        assert.ok(g.heap <= HEAP_GROWTH_BOUND, `${g.dialect}: the live heap grew ${MiB(g.heap)} MiB after warm-up`);
        assert.ok(g.rss <= RSS_GROWTH_BOUND, `${g.dialect}: RSS after GC grew ${MiB(g.rss)} MiB after warm-up`);
      }
    });
  });
}
