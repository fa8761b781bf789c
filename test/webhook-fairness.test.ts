import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../src/domain/clock.ts";
import { otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

/**
 * One account's webhooks cannot hold back another's (docs/webhooks.md, "Delivery, retries and
 * durability"). Before, the worker claimed the 20 oldest due deliveries of all accounts and began no
 * new claim until every one of them was attempted, a webhook's one after another, each up to 15 s:
 * an account whose receiver answered slowly delayed every other account's deliveries by minutes.
 * And an account could create webhooks without end, each event fanning out to all of them.
 */

/** A receiver that holds every request unanswered until `release()`, then answers each (held and later) 500 at once. */
async function startHoldingReceiver() {
  const held: ServerResponse[] = [];
  let received = 0;
  let releasing = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      if (releasing) res.writeHead(500).end();
      else held.push(res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/slow`,
    /** Requests that arrived so far (held or answered). */
    received: () => received,
    held: () => held.length,
    release(): void {
      releasing = true;
      for (const res of held.splice(0)) res.writeHead(500).end();
    },
    close(): Promise<void> {
      this.release();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

for (const dialect of DIALECTS) {
  describe(`webhook delivery is fair across accounts (${dialect})`, () => {
    let h: TestHearth;
    const clock = new ManualClock();
    /** A real HTTP call to the started Hearth, with `key` as Bearer credential. */
    const api = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${h.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    before(async () => {
      // Failed attempts are retried an hour later: each delivery here is attempted once.
      h = await startHearth(
        dialect,
        { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "3600000" },
        { clock },
      );
      await h.listen();
    });
    after(() => h.stop());

    test("another account's slow receivers hold back neither this account's delivery nor more than their share of attempts", async () => {
      const evil = await otherAccount(h, "evil");
      const slow = await startHoldingReceiver();
      const fast = await startReceiver();
      try {
        for (let i = 1; i <= 6; i++) {
          const made = await api("POST", `/v1/accounts/evil/webhooks?webhookId=slow-${i}`, evil, { url: slow.url, events: ["principal.created"] });
          assert.equal(made.status, 200, JSON.stringify(made.body));
        }
        // Three principals: 18 deliveries over 6 webhooks, every attempt held by the receiver.
        for (let i = 1; i <= 3; i++) {
          const user = await api("POST", "/v1/accounts/evil/users", evil, { email: `user${i}@evil.example`, role: "user" });
          assert.equal(user.status, 200, JSON.stringify(user.body));
        }
        await until("evil's first attempts held", async () => (slow.held() >= 4 ? true : undefined));

        const mine = await api("POST", `/v1/accounts/${h.accountId}/webhooks?webhookId=prompt`, h.adminKey, { url: fast.url, events: ["principal.created"] });
        assert.equal(mine.status, 200, JSON.stringify(mine.body));
        const user = await api("POST", `/v1/accounts/${h.accountId}/users`, h.adminKey, { email: "prompt@example.com", role: "user" });
        assert.equal(user.status, 200, JSON.stringify(user.body));
        await fast.waitFor(1);
        assert.match(fast.received[0]!.body, /prompt@example\.com/);
        assert.equal(slow.received(), 4, "evil has at most 4 attempts at once, one per webhook, while mine went through");

        // Once evil's receiver answers, each of its deliveries is attempted once, none twice.
        slow.release();
        await until("every evil delivery attempted", async () => (slow.received() >= 18 ? true : undefined));
        for (let i = 1; i <= 6; i++) {
          const log = await until(`slow-${i}'s attempts recorded`, async () => {
            const res = await api("GET", `/v1/accounts/evil/webhooks/slow-${i}/deliveries`, evil);
            assert.equal(res.status, 200, JSON.stringify(res.body));
            const found = res.body.webhookDeliveries as { attempts: { responseCode: number }[] }[];
            return found.length === 3 && found.every((d) => d.attempts.length === 1) ? found : undefined;
          });
          assert.deepEqual(
            log.map((d) => d.attempts.map((a) => a.responseCode)),
            [[500], [500], [500]],
          );
        }
        assert.equal(slow.received(), 18);
      } finally {
        await slow.close();
        await fast.close();
        await api("DELETE", `/v1/accounts/${h.accountId}/webhooks/prompt`, h.adminKey);
      }
    });

    test('an account holds at most 20 webhooks (the quota "webhooks"): the 21st is refused with a 429 naming the quota, deleting one makes room, an admin may lower it, only the operator raise it', async () => {
      const admin = await otherAccount(h, "fan-out");
      const create = (id: string) =>
        api("POST", `/v1/accounts/fan-out/webhooks?webhookId=${id}`, admin, { url: "http://127.0.0.1:9/hook", events: ["principal.created"] });
      const quota = async () => (await api("GET", "/v1/accounts/fan-out/quotas/webhooks", admin)).body;
      assert.deepEqual(await quota(), {
        name: "accounts/fan-out/quotas/webhooks",
        value: "20",
        maxValue: "20",
        usage: 0,
        updateTime: (await quota()).updateTime,
      });
      for (let i = 1; i <= 20; i++) assert.equal((await create(`hook-${i}`)).status, 200, `webhook ${i}`);
      assert.equal((await quota()).usage, 20);
      const refused = await create("hook-21");
      assert.equal(refused.status, 429, JSON.stringify(refused.body));
      assert.equal(refused.body.error.status, "RESOURCE_EXHAUSTED");
      assert.equal(refused.body.error.message, 'quota "webhooks" exceeded: 20 of 20 in use, this request needs 1 more');
      const listed = await api("GET", "/v1/accounts/fan-out/webhooks", admin);
      assert.equal(listed.body.webhooks.length, 20);
      const audited = await api(
        "GET",
        `/v1/accounts/fan-out/auditLogs?filter=${encodeURIComponent('method="CreateWebhook" AND status:"RESOURCE_EXHAUSTED"')}`,
        admin,
      );
      assert.equal(audited.body.auditLogs.length, 1, "the refusal is audited");
      assert.equal((await api("DELETE", "/v1/accounts/fan-out/webhooks/hook-1", admin)).status, 200);
      assert.equal((await create("hook-21")).status, 200);
      // An admin may hold the account to fewer; raising it above the operator's maximum is refused.
      assert.equal((await api("PATCH", "/v1/accounts/fan-out/quotas/webhooks", admin, { value: "21" })).status, 400);
      for (let i = 2; i <= 18; i++) assert.equal((await api("DELETE", `/v1/accounts/fan-out/webhooks/hook-${i}`, admin)).status, 200);
      assert.equal((await api("PATCH", "/v1/accounts/fan-out/quotas/webhooks", admin, { value: "3" })).status, 200);
      assert.equal((await create("extra")).status, 429, "3 of 3 held");
      // Another account's webhooks are not counted.
      const mine = await api("POST", `/v1/accounts/${h.accountId}/webhooks?webhookId=own`, h.adminKey, {
        url: "http://127.0.0.1:9/hook",
        events: ["principal.created"],
      });
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      await api("DELETE", `/v1/accounts/${h.accountId}/webhooks/own`, h.adminKey);
    });

    test("the key-expiry scan is not held back by another account's slow receiver", async () => {
      const slowpoke = await otherAccount(h, "slowpoke");
      const slow = await startHoldingReceiver();
      const fast = await startReceiver();
      try {
        const hook = await api("POST", "/v1/accounts/slowpoke/webhooks?webhookId=slow", slowpoke, { url: slow.url, events: ["principal.created"] });
        assert.equal(hook.status, 200, JSON.stringify(hook.body));
        assert.equal((await api("POST", "/v1/accounts/slowpoke/users", slowpoke, { email: "held@slowpoke.example", role: "user" })).status, 200);
        await until("slowpoke's attempt held", async () => (slow.held() >= 1 ? true : undefined));

        const mine = await api("POST", `/v1/accounts/${h.accountId}/webhooks?webhookId=expiry`, h.adminKey, { url: fast.url, events: ["api_key.expiring"] });
        assert.equal(mine.status, 200, JSON.stringify(mine.body));
        assert.equal((await api("POST", `/v1/accounts/${h.accountId}/users?userId=expiring`, h.adminKey, { serviceAccount: true, role: "user" })).status, 200);
        const expireTime = new Date(clock.now() + 3600 * 1000).toISOString();
        const key = await api("POST", `/v1/accounts/${h.accountId}/users/expiring/apiKeys`, h.adminKey, { apiKey: { expireTime } });
        assert.equal(key.status, 200, JSON.stringify(key.body));
        clock.advance(60 * 1000); // the scans run once a minute
        await fast.waitFor(1);
        const event = JSON.parse(fast.received[0]!.body) as { type: string; data: { apiKey: string } };
        assert.equal(event.type, "api_key.expiring");
        assert.equal(event.data.apiKey, `accounts/${h.accountId}/users/expiring/apiKeys/${key.body.keyId}`);
        assert.ok(slow.held() >= 1, "while slowpoke's receiver still holds its attempt");
      } finally {
        await slow.close();
        await fast.close();
        await api("DELETE", `/v1/accounts/${h.accountId}/webhooks/expiry`, h.adminKey);
      }
    });
  });
}
