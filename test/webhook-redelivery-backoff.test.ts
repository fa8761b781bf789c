import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

/**
 * A redelivery by hand is retried "for a day like a new one" (docs/webhooks.md): its backoff starts
 * again from HEARTH_WEBHOOK_RETRY_BASE_MS. Before, the backoff went on doubling from the attempts
 * before it, so a redelivery after four failed attempts waited 16 times the base for its first
 * retry (with the default 30 s base, a redelivered FAILED delivery went straight to 6-hour gaps).
 */
const A = "/v1/accounts/my-account";
const BASE_MS = 300;

interface DeliveryView {
  name: string;
  state: string;
  nextAttemptTime?: string;
  attempts: { attempt: number; attemptTime: string; responseCode: number }[];
}

for (const dialect of DIALECTS) {
  describe(`webhook redelivery backoff (${dialect})`, () => {
    let h: TestHearth;
    /** A real HTTP call to the started Hearth as its admin. */
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${h.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${h.adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    before(async () => {
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: String(BASE_MS) });
      await h.listen();
    });
    after(() => h.stop());

    /** The webhook's only delivery once `ready` holds for it. */
    const delivery = (what: string, ready: (d: DeliveryView) => boolean) =>
      until(what, async () => {
        const res = await api("GET", `${A}/webhooks/failing/deliveries`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const [d] = res.body.webhookDeliveries as DeliveryView[];
        return d && ready(d) ? d : undefined;
      });
    // The log reads a delivery and its attempts in two statements: a read between an attempt's record
    // and the next can pair the newest attempt with the schedule from before it. Such reads are passed over.
    const scheduledAfterLast = (d: DeliveryView): boolean =>
      d.state === "PENDING" && d.nextAttemptTime !== undefined && Date.parse(d.nextAttemptTime) > Date.parse(d.attempts.at(-1)!.attemptTime);
    const gapAfter = (d: DeliveryView, attempt: number): number => {
      const at = Date.parse(d.attempts[attempt - 1]!.attemptTime);
      const next = d.attempts[attempt]?.attemptTime ?? d.nextAttemptTime;
      assert.ok(next, "a next attempt is scheduled");
      return Date.parse(next) - at;
    };

    test("a redelivered delivery is retried from the base delay again, its attempts numbered on", async () => {
      const receiver = await startReceiver(() => 500);
      try {
        const made = await api("POST", `${A}/webhooks?webhookId=failing`, { url: receiver.url, events: ["principal.created"] });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        assert.equal((await api("POST", `${A}/users`, { email: "backoff@example.com", role: "user" })).status, 200);

        // Four failed attempts, BASE, 2·BASE and 4·BASE apart; the fifth is due 8·BASE after the fourth.
        const fourth = await delivery("four failed attempts", (d) => d.attempts.length === 4 && scheduledAfterLast(d));
        assert.equal(gapAfter(fourth, 4), 8 * BASE_MS, "the schedule doubles per attempt");

        const again = await api("POST", `/v1/${fourth.name}:redeliver`);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        const redelivered = await delivery("the redelivered attempt", (d) => d.attempts.length > 5 || (d.attempts.length === 5 && scheduledAfterLast(d)));
        assert.deepEqual(
          redelivered.attempts.map((a) => a.attempt),
          redelivered.attempts.map((_, i) => i + 1),
          "the log numbers attempts on",
        );
        const gap = gapAfter(redelivered, 5);
        if (redelivered.attempts.length === 5) assert.equal(gap, BASE_MS, "the first retry of the redelivery is BASE after it, as for a new delivery");
        else assert.ok(gap < 8 * BASE_MS, `retried ${gap} ms after the redelivered attempt, not 16 times the base`);
        assert.equal(receiver.received.length >= 5, true);
      } finally {
        await receiver.close();
        await api("DELETE", `${A}/webhooks/failing`);
      }
    });
  });
}
