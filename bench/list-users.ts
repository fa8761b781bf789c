import { sql } from "kysely";
import type { BenchOptions, Sizes } from "./options.ts";
import { postgresUnavailable, scratch } from "./databases.ts";
import { hearthInProcess } from "./hearth-in-process.ts";
import { ACCOUNT_ID, openSeededStore, seedUsers } from "./seed.ts";
import { count, latencies, log, ms, percentile, ratio } from "./stats.ts";
import { met, notRun, type Row } from "./table.ts";

const TARGET_P99_MS = { sqlite: 10, postgres: 20 } as const;

/**
 * Item 3: `GET /v1/accounts/{a}/users?filter=service_account=true&pageSize=50` through HTTP
 * in-process (`app.inject`: routing, auth, validation, service, store, serialisation; no socket),
 * with 100,000 users in the account, half of them service accounts. Baseline: the same page read
 * straight from the store without the filter or the count (`select … order by id limit 51`).
 * Requests walk the pages with the returned page tokens, restarting at the first page at the end.
 */
export async function listUsers(_options: BenchOptions, size: Sizes): Promise<Row[]> {
  const rows: Row[] = [];
  for (const dialect of ["sqlite", "postgres"] as const) {
    const what = `user list --filter 'service_account=true', page of 50 of ${count(size.listUsers)} users, ${dialect}: p50 / p99`;
    const target = `p99 ≤ ${TARGET_P99_MS[dialect]} ms`;
    if (dialect === "postgres") {
      const reason = await postgresUnavailable();
      if (reason) {
        rows.push(notRun(3, what, target, reason));
        continue;
      }
    }
    rows.push(...(await listOn(dialect, what, target, size)));
  }
  return rows;
}

async function listOn(dialect: "sqlite" | "postgres", what: string, target: string, size: Sizes): Promise<Row[]> {
  const s = await scratch(`list-users-${dialect}`, dialect);
  try {
    const seeded = await openSeededStore(s);
    const t = performance.now();
    await seedUsers(seeded.store, { users: size.listUsers, serviceAccountEvery: 2, keysPerUser: 0, keep: 0 });
    log(`${dialect}: ${count(size.listUsers)} users inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await seeded.store.close();
    const hearth = await hearthInProcess(s);
    try {
      const db = hearth.deps.store.db;
      const headers = { authorization: `Bearer ${seeded.adminKey}` };
      const base = `/v1/accounts/${ACCOUNT_ID}/users?pageSize=50&filter=${encodeURIComponent("service_account=true")}`;
      let token = "";
      let totalSize = 0;
      const listPage = async () => {
        const res = await hearth.app.inject({ method: "GET", url: token ? `${base}&pageToken=${token}` : base, headers });
        if (res.statusCode !== 200) throw new Error(`list answered ${res.statusCode}: ${res.body}`);
        const body = res.json() as { users: unknown[]; nextPageToken: string; totalSize: number };
        if (body.users.length === 0 && token === "") throw new Error("the list is empty");
        totalSize = body.totalSize;
        token = body.nextPageToken;
      };
      let after = "";
      const plainPage = async () => {
        const page = await db.selectFrom("users").selectAll().where("account_id", "=", ACCOUNT_ID).where("id", ">", after).orderBy("id").limit(51).execute();
        after = page.length === 51 ? page[49]!.id : "";
      };
      const n = size.listRequests;
      // Warm-up (statement caches, the admin key in the key cache, the database's pages), then
      // alternate blocks of both so that noise from other work falls on both.
      await latencies(20, listPage);
      await latencies(20, plainPage);
      const hearthMs: number[] = [];
      const plainMs: number[] = [];
      for (let block = 0; block < 4; block++) {
        hearthMs.push(...(await latencies(n / 4, listPage)));
        plainMs.push(...(await latencies(n / 4, plainPage)));
      }
      if (totalSize !== Math.ceil(size.listUsers / 2)) throw new Error(`totalSize ${totalSize}, expected ${Math.ceil(size.listUsers / 2)}`);
      const h = { p50: percentile(hearthMs, 50), p99: percentile(hearthMs, 99) };
      const b = { p50: percentile(plainMs, 50), p99: percentile(plainMs, 99) };
      log(`${dialect}: list p50 ${ms(h.p50)} p99 ${ms(h.p99)}; plain page p50 ${ms(b.p50)} p99 ${ms(b.p99)} (${n} requests each)`);
      const countMs = await timeCount(db, dialect);
      log(`${dialect}: the count alone (select count(*) … service_account = 1) takes ${ms(countMs)} (median of 20)`);
      return [
        {
          item: 3,
          what: `${what} (app.inject, ${n} requests)`,
          hearth: `${ms(h.p50)} / ${ms(h.p99)}`,
          baseline: `${ms(b.p50)} / ${ms(b.p99)} (page, no filter/count)`,
          ratio: ratio(h.p99 / b.p99),
          target,
          met: met(h.p99 <= TARGET_P99_MS[dialect]),
        },
      ];
    } finally {
      await hearth.close();
    }
  } finally {
    await s.drop();
  }
}

/** Median time of the totalSize count on its own, to show its share of a list request. */
async function timeCount(db: Awaited<ReturnType<typeof hearthInProcess>>["deps"]["store"]["db"], _dialect: string): Promise<number> {
  const times = await latencies(20, () => sql`select count(*) as n from users where account_id = ${ACCOUNT_ID} and service_account = 1`.execute(db));
  return percentile(times, 50);
}
