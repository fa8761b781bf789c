import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { loadConfig } from "../src/config.ts";
import { ManualClock } from "../src/domain/clock.ts";
import { bootstrap, createHearth, type Hearth } from "../src/server.ts";
import { callJson } from "./support/cluster-modes.ts";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { serve } from "./support/process.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

/**
 * Webhook delivery is durable: events sit in an outbox written with the change, a delivery pending
 * when its process stops is sent by the next one, every `hearth serve` process of a cluster delivers
 * but each event goes out once, and the key-expiry notices follow the (injectable) clock, once each.
 */
const A = "/v1/accounts/my-account";
const DAY = 24 * 3600 * 1000;
const QUICK = { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_LOG_LEVEL: "silent" };

/** A request to a running process with the admin's key; the parsed JSON answer. */
async function call(hearth: Hearth, key: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await hearth.app.inject({
    method: method as "GET",
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(body ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: res.json() };
}

/** Starts a process on the database of `env`; on a fresh database, also the admin key it printed. */
async function startProcess(env: Record<string, string>, clock?: ManualClock): Promise<{ hearth: Hearth; adminKey: string }> {
  const config = loadConfig(env);
  const hearth = await createHearth(config, clock ? { clock } : {});
  const printed: string[] = [];
  await bootstrap(hearth.deps, (line) => printed.push(line.trim()));
  return { hearth, adminKey: printed.find((l) => l.startsWith(config.keyPrefix)) ?? "" };
}

for (const dialect of DIALECTS) {
  describe(`webhook durability (${dialect})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    after(async () => {
      for (const step of cleanup.reverse()) await step();
    });

    test("a delivery pending when its process stops is sent after a restart, and redelivered by hand", async () => {
      const db = await freshDatabase(dialect);
      cleanup.push(db.drop);
      const receiver = await startReceiver((n) => (n === 1 ? 503 : 200));
      cleanup.push(receiver.close);
      // Retries an hour apart: the first process never retries before it stops.
      const env = { ...db.env, ...QUICK, HEARTH_WEBHOOK_RETRY_BASE_MS: "3600000" };
      const first = await startProcess(env);
      const made = await call(first.hearth, first.adminKey, "POST", `${A}/webhooks?webhookId=ops`, { url: receiver.url, events: ["principal.created"] });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal((await call(first.hearth, first.adminKey, "POST", `${A}/users`, { email: "hal@example.com", role: "user" })).status, 200);
      await receiver.waitFor(1);
      await until("the failed attempt is recorded", async () => {
        const [d] = (await call(first.hearth, first.adminKey, "GET", `${A}/webhooks/ops/deliveries`)).body.webhookDeliveries;
        return d?.attempts.length === 1 ? d : undefined;
      });
      await first.hearth.close();

      const clock = new ManualClock();
      const second = await startProcess(env, clock);
      cleanup.push(() => second.hearth.close());
      clock.advance(2 * 3600 * 1000); // the retry, an hour after the failure, is now due
      await receiver.waitFor(2);
      const [failed, sent] = receiver.received;
      assert.equal(sent!.headers["webhook-id"], failed!.headers["webhook-id"]);
      assert.equal((new Webhook(made.body.signingSecret).verify(sent!.body, sent!.headers) as any).data.email, "hal@example.com");
      const delivered = await until("the delivery succeeded", async () => {
        const [d] = (await call(second.hearth, first.adminKey, "GET", `${A}/webhooks/ops/deliveries`)).body.webhookDeliveries;
        return d?.state === "SUCCEEDED" ? d : undefined;
      });
      assert.deepEqual(
        delivered.attempts.map((a: { responseCode: number }) => a.responseCode),
        [503, 200],
      );

      const again = await call(second.hearth, first.adminKey, "POST", `/v1/${delivered.name}:redeliver`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      await receiver.waitFor(3);
      assert.equal(receiver.received[2]!.headers["webhook-id"], failed!.headers["webhook-id"]);
    });

    test("api_key.expiring is sent 7 days and 1 day before expireTime, api_key.expired after it, each once", async () => {
      const db = await freshDatabase(dialect);
      cleanup.push(db.drop);
      const receiver = await startReceiver();
      cleanup.push(receiver.close);
      const clock = new ManualClock();
      const { hearth, adminKey } = await startProcess({ ...db.env, ...QUICK }, clock);
      cleanup.push(() => hearth.close());
      const made = await call(hearth, adminKey, "POST", `${A}/webhooks?webhookId=keys`, { url: receiver.url, events: ["api_key.expiring", "api_key.expired"] });
      assert.equal(made.status, 200);
      assert.equal((await call(hearth, adminKey, "POST", `${A}/users?userId=nightly`, { serviceAccount: true, role: "user" })).status, 200);
      const expireTime = new Date(clock.now() + 8 * DAY).toISOString();
      const key = await call(hearth, adminKey, "POST", `${A}/users/nightly/apiKeys`, { apiKey: { displayName: "nightly", expireTime } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      const events = () => receiver.received.map((r) => new Webhook(made.body.signingSecret).verify(r.body, r.headers) as any);

      clock.advance(DAY + 3600 * 1000); // 7 days less an hour left
      await receiver.waitFor(1);
      assert.equal(events()[0].type, "api_key.expiring");
      assert.equal(events()[0].data.daysLeft, 7);
      assert.equal(events()[0].data.apiKey, `accounts/my-account/users/nightly/apiKeys/${key.body.keyId}`);
      assert.equal(events()[0].data.expireTime, expireTime);

      clock.advance(6 * DAY); // 23 hours left
      await receiver.waitFor(2);
      assert.equal(events()[1].type, "api_key.expiring");
      assert.equal(events()[1].data.daysLeft, 1);

      clock.advance(2 * DAY); // expired a day ago
      await receiver.waitFor(3);
      assert.equal(events()[2].type, "api_key.expired");

      // Later scans send nothing more: another event (a key created now, expiring within two days) marks
      // the point. Its notice is the 7-day one, and daysLeft says the whole days it has left, rounded up.
      clock.advance(DAY);
      const marker = await call(hearth, adminKey, "POST", `${A}/users/nightly/apiKeys`, {
        apiKey: { expireTime: new Date(clock.now() + 2 * DAY - 3600 * 1000).toISOString() },
      });
      assert.equal(marker.status, 200);
      clock.advance(60 * 1000);
      await receiver.waitFor(4);
      assert.deepEqual(
        events().map((e) => [e.type, e.data.apiKey.split("/").pop(), e.data.daysLeft]),
        [
          ["api_key.expiring", key.body.keyId, 7],
          ["api_key.expiring", key.body.keyId, 1],
          ["api_key.expired", key.body.keyId, undefined],
          ["api_key.expiring", marker.body.keyId, 2],
        ],
      );

      // The delivery log keeps 30 days, once no delivery of an event is pending (the receiver has the
      // last event before its attempt is recorded; a scan may run meanwhile).
      await until("the four deliveries recorded", async () => {
        const listed = (await call(hearth, adminKey, "GET", `${A}/webhooks/keys/deliveries`)).body.webhookDeliveries as { state: string }[];
        return listed.length === 4 && listed.every((d) => d.state === "SUCCEEDED") ? listed : undefined;
      });
      clock.advance(31 * DAY);
      await until("the log is pruned", async () => {
        const listed = await call(hearth, adminKey, "GET", `${A}/webhooks/keys/deliveries`);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        return listed.body.webhookDeliveries.length === 0 ? listed.body.webhookDeliveries : undefined;
      });
    });

    if (dialect === "postgres") {
      test("three `hearth serve` processes on one PostgreSQL database deliver every event exactly once", async () => {
        const db = await freshDatabase(dialect);
        cleanup.push(db.drop);
        const receiver = await startReceiver();
        cleanup.push(receiver.close);
        const env = { ...db.env, ...QUICK };
        // The first creates the schema and the admin; the other two join it.
        const procs = [await serve(env)];
        procs.push(...(await Promise.all([serve(env), serve(env)])));
        cleanup.push(async () => void (await Promise.all(procs.map((p) => p.stop()))));
        const admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
        const base = (i: number) => procs[i % 3]!.baseUrl;
        assert.equal(
          (await callJson(base(0), admin, "POST", `${A}/webhooks?webhookId=cluster`, { url: receiver.url, events: ["principal.created"] })).status,
          200,
        );
        const EVENTS = 30;
        await Promise.all(
          Array.from({ length: EVENTS }, (_, i) =>
            callJson(base(i), admin, "POST", `${A}/users`, { email: `user${i}@example.com`, role: "user" }).then((r) => assert.equal(r.status, 200)),
          ),
        );
        await receiver.waitFor(EVENTS);
        const log = await until("every delivery succeeded", async () => {
          const res = await callJson(base(1), admin, "GET", `${A}/webhooks/cluster/deliveries?pageSize=100`);
          const found = res.body.webhookDeliveries as any[];
          return found.length === EVENTS && found.every((d) => d.state === "SUCCEEDED") ? found : undefined;
        });
        assert.ok(log.every((d) => d.attempts.length === 1));
        // Every process delivers (each polls the outbox), yet each event went out once.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.received.length, EVENTS);
        assert.equal(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size, EVENTS);
      });
    }
  });
}
