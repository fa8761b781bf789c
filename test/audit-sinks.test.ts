import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { loadConfig } from "../src/config.ts";
import { ManualClock } from "../src/domain/clock.ts";
import { createHearth } from "../src/server.ts";
import { DIALECTS, startHearth } from "./support/hearth.ts";
import { until } from "./support/until.ts";

/**
 * Audit sinks: a webhook receiver and a small Splunk HEC receiver on loopback answer 500 for a while;
 * once they recover they get every entry of the account, in chain order, also after a restart.
 */
const A = "/v1/accounts/my-account";

/** A receiver that answers 503 while `down`, else 200, and records every request with its answer. */
async function receiver() {
  const requests: { status: number; headers: Record<string, string>; body: string }[] = [];
  const r = {
    down: true,
    requests,
    url: "",
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = r.down ? 503 : 200;
      requests.push({
        status,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? '{"text":"Success","code":0}' : "{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/services/collector/event`;
  return r;
}

/** The positions a receiver acknowledged, in the order it got them (a batch may come twice: at least once). */
function acknowledged(requests: { status: number; body: string }[], parse: (body: string) => number[]): number[] {
  return requests.filter((r) => r.status === 200).flatMap((r) => parse(r.body));
}

const webhookSeqs = (body: string): number[] => {
  const event = JSON.parse(body) as { type: string; data: { entries: { seq: number }[] } };
  return event.type === "audit.entry" ? event.data.entries.map((e) => e.seq) : [];
};
const hecSeqs = (body: string): number[] =>
  body
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event: { seq: number } }).event.seq);

/** Every position 1..n, each first seen in order. */
function assertInOrder(seqs: number[], n: number, what: string): void {
  const firstSeen: number[] = [];
  for (const s of seqs) if (!firstSeen.includes(s)) firstSeen.push(s);
  assert.deepEqual(
    firstSeen,
    Array.from({ length: n }, (_, i) => i + 1),
    what,
  );
}

for (const dialect of DIALECTS) {
  describe(`audit sinks (${dialect})`, () => {
    test("a webhook and a Splunk HEC receiver that failed for a while get every entry in order, across a restart", async () => {
      const clock = new ManualClock();
      const hook = await receiver();
      const hec = await receiver();
      const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }, { clock });
      let second: Awaited<ReturnType<typeof createHearth>> | undefined;
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=siem`, { body: { url: hook.url, events: ["principal.created"] } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const secret: string = made.body.signingSecret;
        const s1 = await h.call("POST", `${A}/auditSinks?auditSinkId=hook`, { body: { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/siem" } });
        assert.equal(s1.status, 200, JSON.stringify(s1.body));
        const s2 = await h.call("POST", `${A}/auditSinks?auditSinkId=hec`, { body: { type: "SPLUNK_HEC", url: hec.url, hecToken: "hec-token-1" } });
        assert.equal(s2.status, 200, JSON.stringify(s2.body));
        assert.equal(s2.body.url, hec.url);
        assert.equal(JSON.stringify(s2.body).includes("hec-token-1"), false, "the token is never returned");
        assert.equal((await h.call("POST", `${A}/auditSinks`, { body: { type: "SPLUNK_HEC", url: hec.url } })).status, 400);
        assert.equal((await h.call("POST", `${A}/auditSinks`, { body: { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/none" } })).status, 400);
        for (let i = 0; i < 5; i++) assert.equal((await h.call("POST", `${A}/users?userId=sa-${i}`, { body: { serviceAccount: true } })).status, 200);

        const sink = async (api: (m: string, u: string) => Promise<{ body: any }>, id: string) => (await api("GET", `${A}/auditSinks/${id}`)).body;
        const call1 = (m: string, u: string) => h.call(m, u);
        // Down: each sink records the failure and waits to retry.
        await until("both sinks failing", async () => {
          clock.advance(61_000);
          const [a, b] = [await sink(call1, "hook"), await sink(call1, "hec")];
          return a.lastError && b.lastError ? true : undefined;
        });
        assert.match((await sink(call1, "hec")).lastError, /HTTP 503/);

        // Recovered: everything arrives.
        hook.down = false;
        hec.down = false;
        const head = async (db = h.deps.store.db) =>
          Number((await db.selectFrom("audit_chain_heads").select("seq").where("account_id", "=", "my-account").executeTakeFirstOrThrow()).seq);
        let n = await head();
        await until("all entries delivered", async () => {
          clock.advance(61_000);
          n = await head();
          const [a, b] = [await sink(call1, "hook"), await sink(call1, "hec")];
          return a.deliveredCount === n && b.deliveredCount === n ? true : undefined;
        });
        assertInOrder(acknowledged(hook.requests, webhookSeqs), n, "webhook");
        assertInOrder(acknowledged(hec.requests, hecSeqs), n, "HEC");
        const batch = hook.requests.find((r) => r.status === 200 && webhookSeqs(r.body).length > 0)!;
        assert.doesNotThrow(() => new Webhook(secret).verify(batch.body, batch.headers), "signed with the webhook's secret");
        const hecRequest = hec.requests.find((r) => r.status === 200)!;
        assert.equal(hecRequest.headers.authorization, "Splunk hec-token-1");
        assert.equal(JSON.parse(hecRequest.body.split("\n")[0]!).sourcetype, "hearth:audit");

        // Down again, more entries, and the server restarts before the receivers recover.
        hook.down = true;
        hec.down = true;
        for (let i = 5; i < 8; i++) assert.equal((await h.call("POST", `${A}/users?userId=sa-${i}`, { body: { serviceAccount: true } })).status, 200);
        await until("the new entries failing", async () => {
          clock.advance(61_000);
          return (await sink(call1, "hec")).lastError ? true : undefined;
        });
        await h.close();
        second = await createHearth(loadConfig(h.env), { clock });
        const app = second.app;
        const call2 = async (m: string, u: string) => {
          const res = await app.inject({ method: m as "GET", url: u, headers: { authorization: `Bearer ${h.adminKey}` } });
          return { body: JSON.parse(res.body) };
        };
        hook.down = false;
        hec.down = false;
        const store2 = second.deps.store.db;
        await until("all entries delivered after the restart", async () => {
          clock.advance(61_000);
          n = await head(store2);
          const [a, b] = [await sink(call2, "hook"), await sink(call2, "hec")];
          return a.deliveredCount === n && b.deliveredCount === n ? true : undefined;
        });
        assertInOrder(acknowledged(hook.requests, webhookSeqs), n, "webhook after the restart");
        assertInOrder(acknowledged(hec.requests, hecSeqs), n, "HEC after the restart");
        const listed = (await call2("GET", `${A}/auditSinks`)).body.auditSinks;
        assert.deepEqual(
          listed.map((s: any) => s.name),
          ["accounts/my-account/auditSinks/hec", "accounts/my-account/auditSinks/hook"],
        );
      } finally {
        await second?.close();
        await h.stop();
        await hook.close();
        await hec.close();
      }
    });

    test("during its webhook's secret rotation, a sink's batches verify with the replaced secret as with the new one", async () => {
      const clock = new ManualClock();
      const hook = await receiver();
      hook.down = false;
      const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }, { clock });
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=siem`, { body: { url: hook.url, events: ["principal.created"] } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const rotated = await h.call("POST", `${A}/webhooks/siem:rotateSecret`, { body: { gracePeriod: "3600s" } });
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        const [before, after] = [made.body.signingSecret as string, rotated.body.signingSecret as string];
        const sunk = await h.call("POST", `${A}/auditSinks?auditSinkId=hook`, { body: { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/siem" } });
        assert.equal(sunk.status, 200, JSON.stringify(sunk.body));
        const batches = () => hook.requests.filter((r) => r.status === 200 && webhookSeqs(r.body).length > 0);
        await until("a batch delivered", async () => {
          clock.advance(1_000);
          return batches().length > 0 ? true : undefined;
        });
        assert.equal(JSON.parse(batches()[0]!.body).data.account, "accounts/my-account", "the account by its resource name, as in every event");
        for (const secret of [before, after]) {
          assert.doesNotThrow(() => new Webhook(secret).verify(batches()[0]!.body, batches()[0]!.headers), "either secret verifies the batch");
        }
        // Once the grace period is over, only the new secret signs.
        clock.advance(3_601_000);
        const seen = batches().length;
        assert.equal((await h.call("POST", `${A}/users?userId=later`, { body: { serviceAccount: true } })).status, 200);
        await until("a later batch delivered", async () => {
          clock.advance(1_000);
          return batches().length > seen ? true : undefined;
        });
        const later = batches().at(-1)!;
        assert.doesNotThrow(() => new Webhook(after).verify(later.body, later.headers));
        assert.throws(() => new Webhook(before).verify(later.body, later.headers), "the replaced secret no longer signs");
      } finally {
        await h.stop();
        await hook.close();
      }
    });

    test('an account holds at most 5 audit sinks (the quota "audit-sinks"), each sent the whole stream: the 6th is a 429 naming the quota, and audited', async () => {
      const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      try {
        const quota = async () => (await h.call("GET", `${A}/quotas/audit-sinks`)).body;
        assert.deepEqual([(await quota()).value, (await quota()).maxValue, (await quota()).usage], ["5", "5", 0]);
        const create = (id: string) =>
          h.call("POST", `${A}/auditSinks?auditSinkId=${id}`, { body: { type: "SPLUNK_HEC", url: "http://127.0.0.1:9/services/collector", hecToken: "t" } });
        for (let i = 1; i <= 5; i++) assert.equal((await create(`sink-${i}`)).status, 200, `sink ${i}`);
        assert.equal((await quota()).usage, 5);
        const refused = await create("sink-6");
        assert.equal(refused.status, 429, JSON.stringify(refused.body));
        assert.equal(refused.body.error.message, 'quota "audit-sinks" exceeded: 5 of 5 in use, this request needs 1 more');
        assert.equal((await h.call("GET", `${A}/auditSinks`)).body.auditSinks.length, 5, "nothing stored");
        const audited = await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent('method="CreateAuditSink" AND status:"RESOURCE_EXHAUSTED"')}`);
        assert.equal(audited.body.auditLogs.length, 1);
        assert.equal((await h.call("DELETE", `${A}/auditSinks/sink-1`)).status, 200);
        assert.equal((await create("sink-6")).status, 200, "deleting one makes room");
        assert.equal((await h.call("PATCH", `${A}/quotas/audit-sinks`, { body: { value: "6" } })).status, 400, "above the operator's maximum");
      } finally {
        await h.stop();
      }
    });
  });
}
