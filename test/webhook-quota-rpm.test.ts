import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { ManualClock } from "../src/domain/clock.ts";
import type { TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";
import { startReceiver } from "./support/webhook-receiver.ts";

/**
 * quota.threshold for the per-minute inference quota: the request that takes the account's window
 * to 80 % and the one that takes it to 100 % each send one event; later crossings within the hour
 * (the window slides every minute under steady load) send none; a crossing after the hour sends
 * again. The per-minute window runs on real time; the hour runs on an injectable clock, and a
 * raised quota value makes the same window cross 80 % again without waiting a minute.
 */
const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";

describe("quota.threshold for serverless-inference-rpm", () => {
  let h: TestHearth;
  let stop: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret: string;
  const clock = new ManualClock();
  const HOUR = 3600 * 1000;
  const verified = () => receiver.received.map((r) => new Webhook(secret).verify(r.body, r.headers) as any);
  before(async () => {
    ({ h, stop } = await startPlatform("sqlite", {}, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20" }, { clock }));
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await stop();
  });

  test("80 % and 100 % of the requests a minute each send one event", async () => {
    const made = await h.call("POST", `${A}/webhooks?webhookId=rpm`, { body: { url: receiver.url, events: ["quota.threshold"] } });
    assert.equal(made.status, 200);
    secret = made.body.signingSecret;
    assert.equal((await h.call("PATCH", `${A}/quotas/serverless-inference-rpm`, { body: { value: "5" } })).status, 200);
    const { key } = await serviceAccountWithKey(h, "rpm-bot");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await infer(h, key, chat(PUBLIC))).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    await receiver.waitFor(2);
    const events = verified().sort((a, b) => a.data.threshold - b.data.threshold);
    assert.deepEqual(
      events.map((e) => [e.type, e.data.quota, e.data.threshold, e.data.used, e.data.value]),
      [
        ["quota.threshold", "accounts/my-account/quotas/serverless-inference-rpm", 80, 4, 5],
        ["quota.threshold", "accounts/my-account/quotas/serverless-inference-rpm", 100, 5, 5],
      ],
    );
    // Within the hour nothing more is sent, however often the window crosses again: the store holds one notice per threshold.
    const notices = await h.deps.store.db
      .selectFrom("webhook_notices")
      .selectAll()
      .where("subject", "=", "accounts/my-account/quotas/serverless-inference-rpm")
      .execute();
    assert.deepEqual(notices.map((n) => n.notice).sort(), ["quota.threshold:100", "quota.threshold:80"]);
  });

  test("crossing 80 % again within the hour sends nothing; after the hour it sends again", async () => {
    const { key } = await serviceAccountWithKey(h, "rpm-bot-2");
    const sent = receiver.received.length;
    // The five requests of the first test are still in the window: 5 of 10, then 8 of 10 crosses 80 % again.
    assert.equal((await h.call("PATCH", `${A}/quotas/serverless-inference-rpm`, { body: { value: "10" } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await infer(h, key, chat(PUBLIC))).status, 200);
    clock.advance(HOUR + 1000);
    // 8 of 20, then 16 of 20 crosses 80 % after the hour: one event, with the new value.
    assert.equal((await h.call("PATCH", `${A}/quotas/serverless-inference-rpm`, { body: { value: "20" } })).status, 200);
    for (let i = 0; i < 8; i++) assert.equal((await infer(h, key, chat(PUBLIC))).status, 200);
    await receiver.waitFor(sent + 1);
    // The delivery worker polls every 20 ms: a second, unwanted event (the re-crossing within the hour) would have arrived by now too.
    await new Promise((r) => setTimeout(r, 300));
    const later = verified().slice(sent);
    assert.deepEqual(
      later.map((e) => [e.data.threshold, e.data.used, e.data.value]),
      [[80, 16, 20]],
      "only the crossing after the hour is sent",
    );
  });
});
