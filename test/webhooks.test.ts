import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, openTestStore, startHearth, type TestHearth } from "./support/hearth.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

/**
 * Account webhooks (docs/webhooks.md): admins register an endpoint and the events it wants; Hearth
 * POSTs each event signed per Standard Webhooks, retries failures with backoff, keeps a delivery log
 * and redelivers by hand. Receivers here run on loopback, so the operator's switch
 * HEARTH_ALLOW_PRIVATE_NETWORKS=true is on (except where its absence is the point).
 */
const A = "/v1/accounts/my-account";
const FAST = { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "20" };

/** The body a receiver got, verified against `secret` with the standardwebhooks package (throws on a bad signature). */
function verified(secret: string, got: { headers: Record<string, string>; body: string }): any {
  return new Webhook(secret).verify(got.body, got.headers);
}

async function deliveries(h: { call: TestHearth["call"] }, webhookId: string, key?: string): Promise<any[]> {
  const res = await h.call("GET", `${A}/webhooks/${webhookId}/deliveries`, key ? { key } : {});
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.webhookDeliveries;
}

for (const dialect of DIALECTS) {
  describe(`webhooks (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, FAST);
    });
    after(() => h.stop());

    test("an admin creates a webhook; its signing secret is shown once and stored sealed", async () => {
      const made = await h.call("POST", `${A}/webhooks?webhookId=crud`, {
        body: { displayName: "Ops", url: "https://hooks.example.com/hearth", events: ["principal.deleted", "principal.created", "principal.created"] },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.name, "accounts/my-account/webhooks/crud");
      assert.deepEqual(made.body.events, ["principal.created", "principal.deleted"]);
      assert.equal(made.body.state, "ENABLED");
      assert.match(made.body.signingSecret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      const got = await h.call("GET", `${A}/webhooks/crud`);
      assert.equal(got.status, 200);
      assert.equal(got.body.signingSecret, undefined);
      assert.deepEqual(
        (await h.call("GET", `${A}/webhooks`)).body.webhooks.map((w: { name: string }) => w.name),
        ["accounts/my-account/webhooks/crud"],
      );
      const store = await openTestStore(h.env);
      try {
        const row = await store.db.selectFrom("webhooks").selectAll().where("id", "=", "crud").executeTakeFirstOrThrow();
        assert.ok(!row.secret.includes(made.body.signingSecret.slice(6)), "stored sealed, not plain");
        assert.match(row.secret, /^v1\./);
      } finally {
        await store.close();
      }
      assert.ok(!h.logs.join("").includes(made.body.signingSecret.slice(6)), "never logged");

      const patched = await h.call("PATCH", `${A}/webhooks/crud?updateMask=state,events`, { body: { state: "DISABLED", events: ["sign_in.refused"] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.state, "DISABLED");
      assert.deepEqual(patched.body.events, ["sign_in.refused"]);
      assert.equal(patched.body.displayName, "Ops");
      assert.equal((await h.call("DELETE", `${A}/webhooks/crud`)).status, 200);
      assert.equal((await h.call("GET", `${A}/webhooks/crud`)).status, 404);
    });

    test("bad input is a 400 naming the field; only admins manage webhooks", async () => {
      const unknownEvent = await h.call("POST", `${A}/webhooks`, { body: { url: "https://hooks.example.com/x", events: ["key.stolen"] } });
      assert.equal(unknownEvent.status, 400);
      assert.match(unknownEvent.body.error.message, /unknown event type "key\.stolen" in events/);
      const noEvents = await h.call("POST", `${A}/webhooks`, { body: { url: "https://hooks.example.com/x", events: [] } });
      assert.equal(noEvents.status, 400);
      assert.match(noEvents.body.error.message, /events/);
      const badUrl = await h.call("POST", `${A}/webhooks`, { body: { url: "ftp://hooks.example.com/x", events: ["principal.created"] } });
      assert.equal(badUrl.status, 400);
      assert.match(badUrl.body.error.message, /invalid url/);
      const unknownField = await h.call("POST", `${A}/webhooks`, { body: { url: "https://hooks.example.com/x", events: ["principal.created"], secret: "x" } });
      assert.equal(unknownField.status, 400);
      assert.match(unknownField.body.error.message, /unknown field "secret"/);
      const { key } = await serviceAccountWithKey(h, "webhook-reader", "user");
      const refused = await h.call("GET", `${A}/webhooks`, { key });
      assert.equal(refused.status, 403);
      const refusedCreate = await h.call("POST", `${A}/webhooks`, { key, body: { url: "https://hooks.example.com/x", events: ["principal.created"] } });
      assert.equal(refusedCreate.status, 403);
      const audited = await auditEntries(h, 'message="CreateWebhook"');
      assert.ok(audited.some((e) => e.status.code === "PERMISSION_DENIED" && e.isAdminAction));
      assert.ok(audited.some((e) => e.status.code === "OK" && e.resource === "accounts/my-account/webhooks/crud"));
      assert.ok(
        audited.every((e) => !JSON.stringify(e).includes("whsec_")),
        "the secret is not in the audit log",
      );
    });

    test("principal events are delivered, signed per Standard Webhooks, and logged per attempt", async () => {
      const receiver = await startReceiver();
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=principals`, {
          body: { url: receiver.url, events: ["principal.created", "principal.role_changed", "principal.deleted"] },
        });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const secret = made.body.signingSecret;
        const userId = await human(h, "dana@example.com", "user");
        assert.equal((await h.call("PATCH", `${A}/users/${userId}?updateMask=role`, { body: { role: "contributor" } })).status, 200);
        // A refused change sends nothing.
        assert.equal((await h.call("POST", `${A}/users`, { body: { email: "dana@example.com", role: "user" } })).status, 409);
        assert.equal((await h.call("DELETE", `${A}/users/${userId}`)).status, 200);
        await receiver.waitFor(3);
        // Deliveries carry no order (Standard Webhooks): receivers order by the body's timestamp.
        const bodies = receiver.received.map((r) => verified(secret, r));
        const byType = Object.fromEntries(bodies.map((b) => [b.type, b]));
        assert.deepEqual(Object.keys(byType).sort(), ["principal.created", "principal.deleted", "principal.role_changed"]);
        assert.equal(byType["principal.created"].data.principal, `accounts/my-account/users/${userId}`);
        assert.equal(byType["principal.created"].data.email, "dana@example.com");
        assert.equal(byType["principal.role_changed"].data.role, "contributor");
        assert.equal(byType["principal.role_changed"].data.previousRole, "user");
        assert.equal(byType["principal.deleted"].data.principal, `accounts/my-account/users/${userId}`);
        assert.match(receiver.received[0]!.headers["webhook-id"]!, /^msg_/);
        assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(receiver.received[0]!.body, receiver.received[0]!.headers));

        const log = await until("three succeeded deliveries", async () => {
          const found = await deliveries(h, "principals");
          return found.length === 3 && found.every((d) => d.state === "SUCCEEDED") ? found : undefined;
        });
        assert.deepEqual(log.map((d) => d.eventType).sort(), ["principal.created", "principal.deleted", "principal.role_changed"]);
        for (const d of log) {
          assert.equal(d.responseCode, 200);
          assert.equal(d.attempts.length, 1);
          assert.equal(d.attempts[0].responseCode, 200);
        }
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/principals`);
      }
    });

    test("editing a permission preset's actions sends principal.role_changed for each holder, with the actions before and after; a rename sends none", async () => {
      const receiver = await startReceiver();
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=presets`, { body: { url: receiver.url, events: ["principal.role_changed"] } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const secret = made.body.signingSecret;
        assert.equal(
          (await h.call("POST", `${A}/permissionPresets?permissionPresetId=watched`, { body: { actions: ["models.list", "users.list"] } })).status,
          200,
        );
        for (const id of ["holder-a", "holder-b"]) {
          await serviceAccountWithKey(h, id, "user");
          assert.equal((await h.call("PATCH", `${A}/users/${id}`, { body: { permissionPreset: "watched" } })).status, 200);
        }
        await receiver.waitFor(2);
        receiver.received.length = 0;
        assert.equal((await h.call("PATCH", `${A}/permissionPresets/watched?updateMask=displayName`, { body: { displayName: "Watched" } })).status, 200);
        assert.equal((await h.call("PATCH", `${A}/permissionPresets/watched?updateMask=actions`, { body: { actions: ["models.list"] } })).status, 200);
        await receiver.waitFor(2);
        const bodies = receiver.received.map((r) => verified(secret, r)).sort((a, b) => a.data.principal.localeCompare(b.data.principal));
        assert.deepEqual(
          bodies.map((b) => [b.type, b.data.principal, b.data.role, b.data.permissionPreset, b.data.previousRole, b.data.previousActions, b.data.actions]),
          ["holder-a", "holder-b"].map((id) => [
            "principal.role_changed",
            `accounts/my-account/users/${id}`,
            "custom",
            "watched",
            "custom",
            ["models.list", "users.list"],
            ["models.list"],
          ]),
        );
        for (const id of ["holder-a", "holder-b"]) assert.equal((await h.call("DELETE", `${A}/users/${id}`)).status, 200);
        assert.equal((await h.call("DELETE", `${A}/webhooks/presets`)).status, 200);
        assert.equal(receiver.received.length, 2, "the rename sent nothing");
      } finally {
        await receiver.close();
      }
    });

    test("rotating the secret: for the grace period deliveries carry the new and the old signature, then the new one only", async () => {
      const receiver = await startReceiver();
      const base = `${A}/webhooks/rotating`;
      const { key } = await serviceAccountWithKey(h, "rotating-sa", "contributor");
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=rotating`, { body: { url: receiver.url, events: ["principal.created"] } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const first: string = made.body.signingSecret;

        const started = Date.now();
        const rotated = await h.call("POST", `${base}:rotateSecret`, { body: {} });
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        const second: string = rotated.body.signingSecret;
        assert.match(second, /^whsec_[A-Za-z0-9+/]{43}=$/);
        assert.notEqual(second, first);
        const until = Date.parse(rotated.body.previousSecretExpireTime);
        assert.ok(until >= started + 86_400_000 && until <= Date.now() + 86_400_000, "the old secret signs for a day by default");
        const shown = await h.call("GET", base);
        assert.equal(shown.body.signingSecret, undefined, "shown once");
        assert.equal(shown.body.previousSecretExpireTime, rotated.body.previousSecretExpireTime);

        await human(h, "rotating-1@example.com", "user");
        await receiver.waitFor(1);
        const during = receiver.received[0]!;
        assert.equal(during.headers["webhook-signature"]!.split(" ").length, 2);
        assert.equal(verified(second, during).data.email, "rotating-1@example.com", "a receiver on the new secret accepts it");
        assert.equal(verified(first, during).data.email, "rotating-1@example.com", "so does one still on the old secret");

        // A second rotation keeps only the secret in force (the second) for its grace period.
        const again = await h.call("POST", `${base}:rotateSecret`, { body: { gracePeriod: "1s" } });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        const third: string = again.body.signingSecret;
        await human(h, "rotating-2@example.com", "user");
        await receiver.waitFor(2);
        assert.equal(verified(third, receiver.received[1]!).data.email, "rotating-2@example.com");
        assert.throws(() => verified(first, receiver.received[1]!), "the first secret no longer signs");
        await new Promise((r) => setTimeout(r, Date.parse(again.body.previousSecretExpireTime) - Date.now() + 50));
        assert.equal((await h.call("GET", base)).body.previousSecretExpireTime, undefined, "the grace period is over");
        await human(h, "rotating-3@example.com", "user");
        await receiver.waitFor(3);
        const after = receiver.received[2]!;
        assert.equal(after.headers["webhook-signature"]!.split(" ").length, 1);
        assert.equal(verified(third, after).data.email, "rotating-3@example.com");
        assert.throws(() => verified(second, after), "after its grace period the old secret signs nothing");

        const now = await h.call("POST", `${base}:rotateSecret`, { body: { gracePeriod: "0s" } });
        assert.equal(now.status, 200);
        assert.equal(now.body.previousSecretExpireTime, undefined, '"0s": the old secret stops at once');

        const tooLong = await h.call("POST", `${base}:rotateSecret`, { body: { gracePeriod: "604801s" } });
        assert.equal(tooLong.status, 400);
        assert.match(tooLong.body.error.message, /^gracePeriod must be at most 604800s/);
        const notDuration = await h.call("POST", `${base}:rotateSecret`, { body: { gracePeriod: "1d" } });
        assert.equal(notDuration.status, 400);
        assert.match(notDuration.body.error.message, /gracePeriod/);
        const unknownField = await h.call("POST", `${base}:rotateSecret`, { body: { secret: "whsec_mine" } });
        assert.equal(unknownField.status, 400);
        assert.match(unknownField.body.error.message, /unknown field "secret"/);
        assert.equal((await h.call("POST", `${A}/webhooks/nope:rotateSecret`, { body: {} })).status, 404);
        assert.equal((await h.call("POST", `${base}:rotateSecret`, { key, body: {} })).status, 403);
        await human(h, "rotating-4@example.com", "user");
        await receiver.waitFor(4);
        assert.equal(
          verified(now.body.signingSecret, receiver.received[3]!).data.email,
          "rotating-4@example.com",
          "the refusals left the last secret in force",
        );

        const audited = await auditEntries(h, 'message="RotateWebhookSecret"');
        const codes = audited.map((e) => e.status.code).sort();
        assert.deepEqual(
          codes,
          ["INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "NOT_FOUND", "OK", "OK", "OK", "PERMISSION_DENIED"],
          JSON.stringify(codes),
        );
        for (const secret of [first, second, third, now.body.signingSecret]) {
          assert.ok(!JSON.stringify(audited).includes(secret.slice(6)), "no secret in the audit log");
          assert.ok(!h.logs.join("").includes(secret.slice(6)), "nor in a log line");
        }
      } finally {
        await receiver.close();
        await h.call("DELETE", base);
      }
    });

    test("concurrent rotations: each secret handed out was in force, so the delivery verifies with the last two; a loser is a 409", async () => {
      const receiver = await startReceiver();
      const base = `${A}/webhooks/racing`;
      try {
        assert.equal((await h.call("POST", `${A}/webhooks?webhookId=racing`, { body: { url: receiver.url, events: ["principal.created"] } })).status, 200);
        const answers = await Promise.all(Array.from({ length: 8 }, () => h.call("POST", `${base}:rotateSecret`, { body: { gracePeriod: "3600s" } })));
        const statuses = answers.map((a) => a.status);
        assert.ok(
          statuses.every((s) => s === 200 || s === 409),
          JSON.stringify(statuses),
        );
        for (const refused of answers.filter((a) => a.status === 409)) assert.equal(refused.body.error.status, "ABORTED");
        const handedOut: string[] = answers.filter((a) => a.status === 200).map((a) => a.body.signingSecret);
        await human(h, "racing@example.com", "user");
        await receiver.waitFor(1);
        const verifying = handedOut.filter((secret) => {
          try {
            verified(secret, receiver.received[0]!);
            return true;
          } catch {
            return false;
          }
        });
        // The secret in force and the one it replaced; with a single winner, the creation's secret is the other.
        assert.equal(verifying.length, Math.min(2, handedOut.length), `${handedOut.length} rotations succeeded (${JSON.stringify(statuses)})`);
      } finally {
        await receiver.close();
        await h.call("DELETE", base);
      }
    });

    test("a 500 from the receiver is retried with the same webhook-id; a delivery is redelivered by hand", async () => {
      const receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=flaky`, { body: { url: receiver.url, events: ["principal.created"] } });
        assert.equal(made.status, 200);
        await human(h, "erin@example.com", "user");
        await receiver.waitFor(2);
        const [first, second] = receiver.received;
        assert.equal(first!.headers["webhook-id"], second!.headers["webhook-id"]);
        assert.equal(verified(made.body.signingSecret, second!).type, "principal.created");
        const [delivery] = await until("the retried delivery succeeded", async () => {
          const found = await deliveries(h, "flaky");
          return found[0]?.state === "SUCCEEDED" ? found : undefined;
        });
        assert.deepEqual(
          delivery.attempts.map((a: { responseCode: number }) => a.responseCode),
          [500, 200],
        );

        const again = await h.call("POST", `/v1/${delivery.name}:redeliver`);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.state, "PENDING");
        await receiver.waitFor(3);
        assert.equal(receiver.received[2]!.headers["webhook-id"], first!.headers["webhook-id"]);
        const after = await until("the redelivery is logged", async () => {
          const [d] = await deliveries(h, "flaky");
          return d.attempts.length === 3 && d.state === "SUCCEEDED" ? d : undefined;
        });
        assert.equal(after.responseCode, 200);
        const missing = await h.call("POST", `${A}/webhooks/flaky/deliveries/00000000-0000-4000-8000-000000000000:redeliver`);
        assert.equal(missing.status, 404);
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/flaky`);
      }
    });

    test("quota.threshold is sent when usage reaches 80 % and 100 % of a quota, once each", async () => {
      const receiver = await startReceiver();
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=quota`, { body: { url: receiver.url, events: ["quota.threshold"] } });
        assert.equal(made.status, 200);
        assert.equal((await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: "10" } })).status, 200);
        const usage = () => h.call("GET", `${A}/quotas/service-accounts`).then((r) => r.body.usage as number);
        for (let i = 0; (await usage()) < 10; i++) {
          assert.equal((await h.call("POST", `${A}/users?userId=quota-sa-${i}`, { body: { serviceAccount: true, role: "user" } })).status, 200);
        }
        assert.equal((await h.call("POST", `${A}/users?userId=quota-sa-over`, { body: { serviceAccount: true, role: "user" } })).status, 429);
        await receiver.waitFor(2);
        const events = receiver.received.map((r) => verified(made.body.signingSecret, r)).sort((a, b) => a.data.threshold - b.data.threshold);
        assert.deepEqual(
          events.map((e) => [e.type, e.data.quota, e.data.threshold, e.data.used, e.data.value]),
          [
            ["quota.threshold", "accounts/my-account/quotas/service-accounts", 80, 8, 10],
            ["quota.threshold", "accounts/my-account/quotas/service-accounts", 100, 10, 10],
          ],
        );
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/quota`);
        await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: "100" } });
      }
    });

    test("an event is written in the transaction of its change: a change rolled back sends nothing", async () => {
      const receiver = await startReceiver();
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=rollback`, { body: { url: receiver.url, events: ["quota.threshold"] } });
        assert.equal(made.status, 200);
        assert.equal((await h.call("POST", `${A}/datasets?datasetId=taken`, { body: {} })).status, 200);
        assert.equal((await h.call("PATCH", `${A}/quotas/datasets`, { body: { value: "2" } })).status, 200);
        // Reserving the last dataset crosses 80 % and 100 % and writes the events; the id is taken, so the creation and the events roll back.
        const refused = await h.call("POST", `${A}/datasets?datasetId=taken`, { body: {} });
        assert.equal(refused.status, 409, JSON.stringify(refused.body));
        assert.deepEqual(await deliveries(h, "rollback"), [], "nothing was written");
        assert.equal((await h.call("POST", `${A}/datasets?datasetId=second`, { body: {} })).status, 200);
        // One creation took the account from 1 of 2 to 2 of 2: both thresholds, once each (not twice).
        await receiver.waitFor(2);
        const log = await deliveries(h, "rollback");
        assert.deepEqual(
          log.map((d) => [d.payload.data.quota, d.payload.data.threshold, d.payload.data.used]).sort((a, b) => a[1] - b[1]),
          [
            ["accounts/my-account/quotas/datasets", 80, 2],
            ["accounts/my-account/quotas/datasets", 100, 2],
          ],
        );
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/rollback`);
      }
    });

    test("sign_in.refused is sent when a sign-in is refused", async () => {
      const receiver = await startReceiver();
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=signin`, { body: { url: receiver.url, events: ["sign_in.refused"] } });
        assert.equal(made.status, 200);
        const sa = await h.call("POST", `${A}/users?userId=signin-sa`, { body: { serviceAccount: true, role: "user" } });
        assert.equal(sa.status, 200, JSON.stringify(sa.body));
        // A service account never signs in: asking for a sign-in link for one is refused and audited.
        await assert.rejects(createSigninLink(h.deps, "my-account", sa.body.email), /service account/i);
        await receiver.waitFor(1);
        const event = verified(made.body.signingSecret, receiver.received[0]!);
        assert.equal(event.type, "sign_in.refused");
        assert.equal(event.data.principal, "accounts/my-account/users/signin-sa");
        assert.equal(event.data.via, "link");
        assert.equal(event.data.code, "PERMISSION_DENIED");
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/signin`);
      }
    });

    test("a disabled webhook is sent nothing", async () => {
      const receiver = await startReceiver();
      try {
        await h.call("POST", `${A}/webhooks?webhookId=quiet`, { body: { url: receiver.url, events: ["principal.created"], state: "DISABLED" } });
        await h.call("POST", `${A}/webhooks?webhookId=loud`, { body: { url: receiver.url, events: ["principal.created"] } });
        await human(h, "frank@example.com", "user");
        await receiver.waitFor(1);
        assert.deepEqual(await deliveries(h, "quiet"), []);
        assert.equal((await deliveries(h, "loud")).length, 1);
      } finally {
        await receiver.close();
        await h.call("DELETE", `${A}/webhooks/quiet`);
        await h.call("DELETE", `${A}/webhooks/loud`);
      }
    });
  });
}
