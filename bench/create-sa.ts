import type autocannon from "autocannon";
import { sql } from "kysely";
import { openStore } from "../src/store/store.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { scratch } from "./databases.ts";
import { load, type LoadResult } from "./load.ts";
import { cannedFrom, serveBare, serveHearth, type Child } from "./processes.ts";
import { ACCOUNT_ID, openSeededStore } from "./seed.ts";
import { count, log, median, micros, ms, perSecond, ratio } from "./stats.ts";
import { met, type Row } from "./table.ts";

const CLIENTS = 4;

/**
 * Item 4: create a service account and then an API key for it (two requests, each audited in its
 * own transaction), over HTTP against a real `hearth serve` child on SQLite, with a handful of
 * concurrent clients (autocannon connections, each running the pair in sequence). Baseline: the
 * same two requests against the bare `node:http` child, which answers the same shapes canned.
 */
export async function createServiceAccounts(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("create-sa");
  let hearth: Child | undefined;
  let bare: Child | undefined;
  try {
    const seeded = await openSeededStore(s);
    // The default service-accounts quota (100) would stop the run at once: raise it, as an operator would.
    await seeded.store.db.updateTable("quotas").set({ value: 100_000_000, max_value: 100_000_000 }).where("id", "=", "service-accounts").execute();
    await seeded.store.close();
    hearth = await serveHearth(s.env, { profile: options.profile });

    const auth = { authorization: `Bearer ${seeded.adminKey}`, "content-type": "application/json" };
    const userBody = JSON.stringify({ serviceAccount: true, role: "user", displayName: "bench" });
    const keyBody = JSON.stringify({ apiKey: { displayName: "bench" } });
    const usersPath = `/v1/accounts/${ACCOUNT_ID}/users`;
    const probeUser = await fetch(`${hearth.baseUrl}${usersPath}?userId=probe`, { method: "POST", headers: auth, body: userBody });
    if (probeUser.status !== 200) throw new Error(`create service account answered ${probeUser.status}: ${await probeUser.text()}`);
    const probeKey = await fetch(`${hearth.baseUrl}${usersPath}/probe/apiKeys`, { method: "POST", headers: auth, body: keyBody });
    if (probeKey.status !== 200) throw new Error(`create API key answered ${probeKey.status}: ${await probeKey.text()}`);
    bare = await serveBare(
      [await cannedFrom("POST", "^/v1/accounts/[^/]+/users$", probeUser), await cannedFrom("POST", "^/v1/accounts/[^/]+/users/[^/]+/apiKeys$", probeKey)],
      s.dataDir,
      { profile: options.profile },
    );

    let serial = 0;
    const pair = (): autocannon.Request[] => [
      {
        method: "POST",
        headers: auth,
        body: userBody,
        setupRequest: (req, context) => {
          const id = `sa-${(serial++).toString(36)}`;
          (context as { id: string }).id = id;
          return { ...req, path: `${usersPath}?userId=${id}` };
        },
      },
      {
        method: "POST",
        headers: auth,
        body: keyBody,
        setupRequest: (req, context) => ({ ...req, path: `${usersPath}/${(context as { id: string }).id}/apiKeys` }),
      },
    ];
    const run = (child: Child, seconds: number) => load({ url: child.baseUrl, connections: CLIENTS, seconds, requests: pair(), server: child });
    log(`warming up both servers (${CLIENTS} clients)`);
    await run(bare, 1);
    await run(hearth, 1);
    const results: { hearth: LoadResult[]; bare: LoadResult[] } = { hearth: [], bare: [] };
    for (let round = 0; round < size.httpRounds; round++) {
      const order: Array<"hearth" | "bare"> = round % 2 === 0 ? ["bare", "hearth"] : ["hearth", "bare"];
      for (const which of order) {
        const r = await run(which === "hearth" ? hearth : bare, size.createSeconds);
        if (r.failed > 0) throw new Error(`${which}: ${r.failed} requests failed or were not 2xx`);
        results[which].push(r);
        log(
          `round ${round + 1} ${which}: ${perSecond(r.perSecond / 2)} pairs, p99 ${ms(r.p99)}, server CPU ${micros(r.cpuMicros * 2)} per pair, waited for a CPU ${(100 * r.waitShare).toFixed(0)}% of the time`,
        );
      }
    }
    const metrics = await (await fetch(`${hearth.baseUrl}/metrics`)).text();
    const grouped = (name: string) => Number(new RegExp(`^hearth_store_group_commit_${name}_total (\\d+)`, "m").exec(metrics)?.[1] ?? NaN);
    log(
      `group commit: ${count(grouped("changes"))} changes in ${count(grouped("transactions"))} transactions (${(grouped("changes") / grouped("transactions")).toFixed(2)} per transaction)`,
    );
    await hearth.stop();
    const audit = await auditedCreations(s.dataDir);
    log(
      `the store holds ${count(audit.serviceAccounts)} service accounts, ${count(audit.keys)} keys and ${count(audit.entries)} successful CreateUser/CreateApiKey audit entries`,
    );
    // Every service account has its CreateUser entry and every key (the admin's bootstrap key too) its CreateApiKey entry.
    if (audit.entries !== audit.serviceAccounts + audit.keys) {
      throw new Error(`audit entries (${audit.entries}) do not match the service accounts and keys created`);
    }
    const pairs = { hearth: median(results.hearth.map((r) => r.perSecond)) / 2, bare: median(results.bare.map((r) => r.perSecond)) / 2 };
    const cpu = { hearth: median(results.hearth.map((r) => r.cpuMicros)) * 2, bare: median(results.bare.map((r) => r.cpuMicros)) * 2 };
    const p99 = { hearth: median(results.hearth.map((r) => r.p99)), bare: median(results.bare.map((r) => r.p99)) };
    return [
      {
        item: 4,
        what: `create service account + key over HTTP, SQLite, ${CLIENTS} clients (median of ${size.httpRounds} × ${size.createSeconds} s)`,
        hearth: perSecond(pairs.hearth),
        baseline: perSecond(pairs.bare),
        ratio: ratio(pairs.hearth / pairs.bare),
        target: "≥ 1,000/s",
        met: met(pairs.hearth >= 1_000),
      },
      {
        item: 4,
        what: "  p99 latency of one of those requests",
        hearth: ms(p99.hearth),
        baseline: ms(p99.bare),
        ratio: ratio(p99.hearth / p99.bare),
        target: "—",
        met: "—",
      },
      {
        item: 4,
        what: "  server CPU time per pair (ratio: pairs per CPU-second, Hearth ÷ bare)",
        hearth: micros(cpu.hearth),
        baseline: micros(cpu.bare),
        ratio: ratio(cpu.bare / cpu.hearth),
        target: "—",
        met: "—",
      },
    ];
  } finally {
    await hearth?.stop();
    await bare?.stop();
    await s.drop();
  }
}

/** Counts what the run left in the SQLite file: service accounts, keys, and their audit entries. */
async function auditedCreations(dataDir: string) {
  const store = await openStore({ dataDir, migrate: false });
  try {
    const one = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(store.db)).rows[0]!.n);
    return {
      serviceAccounts: await one(sql`select count(*) as n from users where service_account = 1`),
      keys: await one(sql`select count(*) as n from api_keys`),
      entries: await one(sql`select count(*) as n from audit_logs where method in ('CreateUser', 'CreateApiKey') and status_code = 0`),
    };
  } finally {
    await store.close();
  }
}
