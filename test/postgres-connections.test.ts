import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { adminQuery, DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

describe("PostgreSQL ending Hearth's connections (a restart, pg_terminate_backend)", { skip: !DIALECTS.includes("postgres") }, () => {
  let h: TestHearth;
  before(async () => {
    h = await startHearth("postgres");
  });
  after(() => h.stop());

  test("connections ended by the server, idle or in use, do not end the process; the next requests open new ones", async () => {
    // Several concurrent requests leave several idle connections in the pool.
    const first = await Promise.all(Array.from({ length: 6 }, () => h.call("GET", "/v1/accounts/my-account/users")));
    assert.ok(first.every((r) => r.status === 200));
    const database = new URL(h.env.DATABASE_URL!).pathname.slice(1);
    await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Ended again while requests are using connections: those requests may fail, the process may not.
    const inFlight = Array.from({ length: 30 }, (_, i) => h.call("POST", `/v1/accounts/my-account/users?userId=busy-${i}`, { body: { serviceAccount: true } }));
    await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
    for (const res of await Promise.all(inFlight)) assert.ok(res.status === 200 || res.status === 500, `${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await h.call("GET", "/v1/accounts/my-account/users");
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const write = await h.call("POST", "/v1/accounts/my-account/users?userId=after-restart", { body: { serviceAccount: true } });
    assert.equal(write.status, 200, JSON.stringify(write.body));
  });
});
