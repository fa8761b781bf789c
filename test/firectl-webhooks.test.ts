import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { human } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { field, firectlAt, firstColumn, ok, type Run } from "./support/run.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

/** `firectl webhook create|list|get|update|rotate|delete|deliveries|redeliver`, end to end against a real Hearth and a receiver on loopback. */
let h: TestHearth;
let home: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const firectl = (args: string[]): Promise<Run> => firectlAt(home, h.baseUrl, h.adminKey)(args);

before(async () => {
  h = await startHearth("sqlite", { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "20" });
  await h.listen();
  home = mkdtempSync(join(tmpdir(), "firectl-webhooks-"));
  receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
});

after(async () => {
  await receiver.close();
  await h.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("firectl webhook", () => {
  test("create prints the secret once; list, get, update, deliveries, redeliver, rotate and delete work", async () => {
    const created = ok(await firectl(["webhook", "create", "alerts", "--url", receiver.url, "--events", "principal.created,principal.deleted"]));
    const secret = field(created, "Signing Secret")?.split(" ")[0] ?? "";
    assert.match(secret, /^whsec_/);
    assert.equal(field(created, "Events"), "principal.created, principal.deleted");
    assert.deepEqual(firstColumn(ok(await firectl(["webhook", "list"]))), ["alerts"]);
    const shown = ok(await firectl(["webhook", "get", "accounts/my-account/webhooks/alerts"]));
    assert.equal(field(shown, "State"), "ENABLED");
    assert.doesNotMatch(shown, /whsec_/);

    await human(h, "ivy@example.com", "user");
    await receiver.waitFor(2); // a 500, then the retry
    assert.equal((new Webhook(secret).verify(receiver.received[1]!.body, receiver.received[1]!.headers) as any).type, "principal.created");
    const log = await until("the delivery succeeded", async () => {
      const out = ok(await firectl(["webhook", "deliveries", "alerts"]));
      return /SUCCEEDED\s+200\s+2\b/.test(out) ? out : undefined;
    });
    const deliveryId = firstColumn(log)[0]!;
    assert.match(log, /principal\.created/);
    const json = JSON.parse(ok(await firectl(["webhook", "deliveries", "alerts", "-o", "json"])));
    assert.deepEqual(
      json.webhookDeliveries[0].attempts.map((a: { responseCode: number }) => a.responseCode),
      [500, 200],
    );

    assert.match(ok(await firectl(["webhook", "redeliver", "alerts", deliveryId])), /Redelivering accounts\/my-account\/webhooks\/alerts\/deliveries\//);
    await receiver.waitFor(3);
    assert.equal(receiver.received[2]!.headers["webhook-id"], receiver.received[0]!.headers["webhook-id"]);

    const rotated = ok(await firectl(["webhook", "rotate", "alerts", "--grace-period", "1h"]));
    const next = field(rotated, "Signing Secret")?.split(" ")[0] ?? "";
    assert.match(next, /^whsec_/);
    assert.notEqual(next, secret);
    assert.ok(field(rotated, "Old Secret Signs Until"), rotated);
    assert.doesNotMatch(ok(await firectl(["webhook", "get", "alerts"])), /whsec_/);
    await human(h, "ivy-2@example.com", "user");
    await receiver.waitFor(4);
    for (const s of [secret, next])
      assert.equal((new Webhook(s).verify(receiver.received[3]!.body, receiver.received[3]!.headers) as any).type, "principal.created");
    const tooLong = await firectl(["webhook", "rotate", "alerts", "--grace-period", "8d"]);
    assert.notEqual(tooLong.code, 0);
    assert.match(tooLong.stderr, /gracePeriod must be at most 604800s/);
    const badFlag = await firectl(["webhook", "rotate", "alerts", "--grace-period", "soon"]);
    assert.notEqual(badFlag.code, 0);
    assert.match(badFlag.stderr, /--grace-period/);
    assert.match(badFlag.stderr, /\(e\.g\. 0s, 24h, 90d, 1h30m\)/, "an abbreviation is not taken for a sentence end");

    assert.equal(field(ok(await firectl(["webhook", "update", "alerts", "--state", "DISABLED"])), "State"), "DISABLED");
    const refused = await firectl(["webhook", "update", "alerts", "--events", "nope"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unknown event type "nope" in events.*\(INVALID_ARGUMENT\)/);
    assert.match(ok(await firectl(["webhook", "delete", "alerts"])), /Deleted webhook accounts\/my-account\/webhooks\/alerts/);
    assert.deepEqual(firstColumn(ok(await firectl(["webhook", "list"]))), []);
  });
});
