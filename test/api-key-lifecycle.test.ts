import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../src/domain/clock.ts";
import { DIALECTS, freshDatabase, startHearth, type TestHearth } from "./support/hearth.ts";
import { serve, type Served } from "./support/process.ts";
import { firectlAt } from "./support/run.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";
import { CLUSTER_MODES, callJson } from "./support/cluster-modes.ts";

/**
 * An API key's lifecycle over HTTP (disable with a reason, enable, rotate with a grace period), the
 * account's key policy on create and rotate, and the last-used address; time moved with a
 * ManualClock, never slept. Then three real `hearth serve` processes on one PostgreSQL: a disable,
 * an enable or a rotation through one is seen by the others within a second.
 */
const A = "/v1/accounts/my-account";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const dialect of DIALECTS) {
  describe(`API key lifecycle (${dialect})`, () => {
    let h: TestHearth;
    const clock = new ManualClock();
    let n = 0;
    /** A new service account (role `role`) and one key of it. */
    async function botWithKey(role = "user", apiKey: Record<string, unknown> = {}): Promise<{ userId: string; keyId: string; key: string; keys: string }> {
      const userId = `bot-${++n}`;
      assert.equal((await h.call("POST", `${A}/users?userId=${userId}`, { body: { serviceAccount: true, role } })).status, 200);
      const made = await h.call("POST", `${A}/users/${userId}/apiKeys`, { body: { apiKey } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      return { userId, keyId: made.body.keyId, key: made.body.key, keys: `${A}/users/${userId}/apiKeys` };
    }
    const verify = (key: string) => h.call("GET", "/verifyApiKey", { key });

    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      // The account's webhook receiver runs on loopback: the operator's switch allows it.
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20" }, { clock });
      receiver = await startReceiver();
      const hook = await h.call("POST", `${A}/webhooks?webhookId=keys`, {
        body: { displayName: "Keys", url: receiver.url, events: ["api_key.disabled", "api_key.rotated"] },
      });
      assert.equal(hook.status, 200, JSON.stringify(hook.body));
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    test("disabling sends api_key.disabled and rotating sends api_key.rotated to the account's webhook", async () => {
      const bot = await botWithKey();
      const name = `accounts/my-account/users/${bot.userId}/apiKeys/${bot.keyId}`;
      assert.equal((await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "UNUSED" } })).status, 200);
      const disabled = await until("api_key.disabled", async () => receiver.received.map((r) => JSON.parse(r.body)).find((e) => e.type === "api_key.disabled"));
      assert.deepEqual(disabled.data, { account: "accounts/my-account", apiKey: name, disableReason: "UNUSED" });
      assert.equal((await h.call("POST", `${bot.keys}/${bot.keyId}:enable`, { body: {} })).status, 200);
      const rotated = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "60s" } });
      assert.equal(rotated.status, 200);
      const event = await until("api_key.rotated", async () => receiver.received.map((r) => JSON.parse(r.body)).find((e) => e.type === "api_key.rotated"));
      assert.equal(event.data.apiKey, name);
      assert.equal(event.data.successor, rotated.body.name);
      assert.equal(event.data.expireTime, (await h.call("GET", `${bot.keys}/${bot.keyId}`)).body.expireTime);
      assert.ok(!JSON.stringify(receiver.received).includes(rotated.body.key), "the new secret is never sent");
    });

    test("a disabled key is refused on its next request with a sentence naming the reason; enabled, it works again", async () => {
      const bot = await botWithKey();
      assert.equal((await verify(bot.key)).status, 200, "cached as valid");
      const off = await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "COMPROMISED" } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.state, "DISABLED");
      assert.equal(off.body.disableReason, "COMPROMISED");
      const refused = await verify(bot.key);
      assert.equal(refused.status, 401);
      assert.match(refused.body.error.message, /the API key is disabled \(reason COMPROMISED: it was compromised\)/);
      // Any route, not only verification.
      assert.equal((await h.call("GET", `${A}/quotas`, { key: bot.key })).status, 401);
      const listed = await h.call("GET", bot.keys);
      assert.equal(listed.body.apiKeys[0].state, "DISABLED");
      const on = await h.call("POST", `${bot.keys}/${bot.keyId}:enable`, { body: {} });
      assert.equal(on.status, 200);
      assert.equal(on.body.state, "ENABLED");
      assert.equal(on.body.disableReason, undefined);
      assert.equal((await verify(bot.key)).status, 200);
      const audit = await h.call(
        "GET",
        `${A}/auditLogs?filter=${encodeURIComponent(`resource="accounts/my-account/users/${bot.userId}/apiKeys/${bot.keyId}"`)}`,
      );
      const methods = audit.body.auditLogs.map((e: any) => e.method);
      assert.ok(methods.includes("DisableApiKey") && methods.includes("EnableApiKey"), String(methods));
    });

    test("disabled as EXPOSED or COMPROMISED, a key takes the keys made through it (at any depth) along, not its rotated replacement; UNUSED takes none", async () => {
      const bot = await botWithKey("user");
      const mint = async (through: string, displayName: string) => {
        const made = await h.call("POST", bot.keys, { key: through, body: { apiKey: { displayName } } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        return made.body as { key: string; keyId: string; name: string };
      };
      const child = await mint(bot.key, "child");
      const grandchild = await mint(child.key, "grandchild");
      const sibling = await mint(h.adminKey, "made by the admin");
      // UNUSED says nothing about who holds the secret: the keys made through it keep working.
      assert.equal((await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "UNUSED" } })).status, 200);
      assert.deepEqual([(await verify(child.key)).status, (await verify(grandchild.key)).status], [200, 200]);
      assert.equal((await h.call("POST", `${bot.keys}/${bot.keyId}:enable`, { body: {} })).status, 200);
      // Rotated: the replacement was made by the rotation, not through the old secret.
      const successor = (await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "3600s" } })).body;
      const sent = receiver.received.length;
      const off = await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "EXPOSED" } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      for (const k of [child, grandchild]) {
        const refused = await verify(k.key);
        assert.equal(refused.status, 401, k.name);
        assert.match(refused.body.error.message, /reason EXPOSED: its secret was exposed/);
        assert.equal((await h.call("GET", `${bot.keys}/${k.keyId}`)).body.disableReason, "EXPOSED");
      }
      assert.deepEqual([(await verify(successor.key)).status, (await verify(sibling.key)).status], [200, 200], "the replacement and the admin's key work");
      const events = await until("three api_key.disabled", async () => {
        const found = receiver.received
          .slice(sent)
          .map((r) => JSON.parse(r.body))
          .filter((e) => e.type === "api_key.disabled" && e.data.disableReason === "EXPOSED");
        return found.length === 3 ? found : undefined;
      });
      assert.deepEqual(
        events.map((e: any) => e.data.apiKey).sort(),
        [`${A.slice(4)}/users/${bot.userId}/apiKeys/${bot.keyId}`, child.name, grandchild.name].sort(),
      );
      const entry = (
        await h.call(
          "GET",
          `${A}/auditLogs?filter=${encodeURIComponent(`method="DisableApiKey" AND resource="${A.slice(4)}/users/${bot.userId}/apiKeys/${bot.keyId}"`)}`,
        )
      ).body.auditLogs[0];
      assert.deepEqual(entry.payload.alsoDisabled.sort(), [child.name, grandchild.name].sort());
    });

    test("a bad or missing disableReason, or an unknown field, is a 400 naming it", async () => {
      const bot = await botWithKey();
      const bad = await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "BORED" } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /disableReason must be one of EXPOSED, COMPROMISED, UNUSED, OTHER/);
      assert.equal((await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: {} })).status, 400);
      const unknown = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { grace: "1s" } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /unknown field "grace"/);
      const duration = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "1 day" } });
      assert.equal(duration.status, 400);
      assert.match(duration.body.error.message, /gracePeriod/);
      assert.equal((await verify(bot.key)).status, 200, "nothing changed");
    });

    test("a user cannot disable or rotate another principal's key; its own it can", async () => {
      const owner = await botWithKey("user");
      const other = await botWithKey("user");
      const denied = await h.call("POST", `${other.keys}/${other.keyId}:disable`, { key: owner.key, body: { disableReason: "OTHER" } });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error.message, /cannot disable or enable other principals' API keys/);
      assert.equal((await h.call("POST", `${other.keys}/${other.keyId}:rotate`, { key: owner.key, body: {} })).status, 403);
      const own = await h.call("POST", `${owner.keys}/${owner.keyId}:rotate`, { key: owner.key, body: { gracePeriod: "60s" } });
      assert.equal(own.status, 200, JSON.stringify(own.body));
    });

    test("disabled keys do not count toward api-keys-per-user; enabling one needs room again", async () => {
      const bot = await botWithKey();
      assert.equal((await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "2" } })).status, 200);
      try {
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 200);
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 429, "two keys: at the limit");
        await h.call("POST", `${bot.keys}/${bot.keyId}:disable`, { body: { disableReason: "UNUSED" } });
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 200, "the disabled key left its place");
        const enable = await h.call("POST", `${bot.keys}/${bot.keyId}:enable`, { body: {} });
        assert.equal(enable.status, 429);
        assert.match(enable.body.error.message, /quota "api-keys-per-user" exceeded: 2 of 2 in use/);
        assert.equal((await verify(bot.key)).status, 401, "still disabled");
      } finally {
        await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "10" } });
      }
    });

    test("rotation: a successor with the same owner, name and restrictions; the old key works until the grace period ends, then 401", async () => {
      const bot = await botWithKey("user", { displayName: "deploy", rpm: 7, allowedModels: ["accounts/fireworks/models/*"] });
      const rotated = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "3600s" } });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.equal(rotated.headers["cache-control"], "no-store");
      const next = rotated.body;
      assert.notEqual(next.keyId, bot.keyId);
      assert.ok(next.key.startsWith(next.prefix.slice(0, 4)), "the new secret, shown once");
      assert.equal(next.displayName, "deploy");
      assert.equal(next.rpm, 7);
      assert.deepEqual(next.allowedModels, ["accounts/fireworks/models/*"]);
      assert.equal(next.name, `accounts/my-account/users/${bot.userId}/apiKeys/${next.keyId}`);
      assert.equal((await h.call("GET", `${bot.keys}/${next.keyId}`)).body.key, undefined, "the secret is never shown again");
      const old = await h.call("GET", `${bot.keys}/${bot.keyId}`);
      assert.ok(Math.abs(Date.parse(old.body.expireTime) - (clock.now() + HOUR)) < 60_000);
      assert.equal((await verify(bot.key)).status, 200, "the old key works during the grace period");
      assert.equal((await verify(next.key)).status, 200);
      clock.advance(HOUR - 60_000);
      assert.equal((await verify(bot.key)).status, 200, "a minute before the end");
      clock.advance(2 * 60_000);
      const late = await verify(bot.key);
      assert.equal(late.status, 401);
      assert.match(late.body.error.message, /has expired/);
      assert.equal((await verify(next.key)).status, 200);
      const again = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: {} });
      assert.equal(again.status, 400);
      assert.match(again.body.error.message, /has expired/);
    });

    test('rotation with gracePeriod "0s" revokes the old key at once; a key is rotated only once', async () => {
      const bot = await botWithKey();
      assert.equal((await verify(bot.key)).status, 200, "cached as valid");
      const rotated = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "0s" } });
      assert.equal(rotated.status, 200);
      assert.equal((await verify(bot.key)).status, 401);
      assert.equal((await verify(rotated.body.key)).status, 200);
      const bot2 = await botWithKey();
      const first = await h.call("POST", `${bot2.keys}/${bot2.keyId}:rotate`, { body: {} });
      assert.equal(first.status, 200);
      const old = await h.call("GET", `${bot2.keys}/${bot2.keyId}`);
      assert.ok(Math.abs(Date.parse(old.body.expireTime) - (clock.now() + DAY)) < 60_000, "the default grace is 86400s");
      const second = await h.call("POST", `${bot2.keys}/${bot2.keyId}:rotate`, { body: {} });
      assert.equal(second.status, 400);
      assert.match(second.body.error.message, new RegExp(`already rotated to "${first.body.keyId}"`));
    });

    test("rotation is allowed at the api-keys-per-user limit: the successor takes the old key's place", async () => {
      const bot = await botWithKey();
      assert.equal((await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "1" } })).status, 200);
      try {
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 429, "at the limit");
        const rotated = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "600s" } });
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        assert.equal((await verify(rotated.body.key)).status, 200);
        assert.equal((await verify(bot.key)).status, 200);
        // The old key counts until it expires.
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 429);
      } finally {
        await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "10" } });
      }
    });

    test("reproduction: rotating each successor with a 100-year grace period no longer keeps 18 live keys under a limit of 10; one key in its grace period at a time may go over", async () => {
      const bot = await botWithKey();
      assert.equal((await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "2" } })).status, 200);
      try {
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 200, "two of two");
        const first = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { gracePeriod: "3153600000s" } });
        assert.equal(first.status, 200, "one key in its grace period may go over the limit");
        const again = await h.call("POST", `${bot.keys}/${first.body.keyId}:rotate`, { body: { gracePeriod: "3153600000s" } });
        assert.equal(again.status, 429, JSON.stringify(again.body));
        assert.match(again.body.error.message, /api-keys-per-user/);
        assert.equal(Number((await h.call("GET", `${A}/quotas/api-keys-per-user`)).body.usage), 3, "the refused rotation made nothing");
        // Without a grace period the rotation takes the old key's place exactly: no room needed.
        const now = await h.call("POST", `${bot.keys}/${first.body.keyId}:rotate`, { body: { gracePeriod: "0s" } });
        assert.equal(now.status, 200, JSON.stringify(now.body));
        assert.equal((await verify(first.body.key)).status, 401);
        assert.equal((await verify(now.body.key)).status, 200);
      } finally {
        await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: "10" } });
      }
    });

    test("reproduction: a key disabled as EXPOSED cannot be re-enabled by its owner through a change of reason to OTHER; a cascade takes keys disabled as OTHER along", async () => {
      const owner = await botWithKey("user");
      const second = (await h.call("POST", owner.keys, { key: owner.key, body: { apiKey: { displayName: "second" } } })).body;
      const exposed = (await h.call("POST", owner.keys, { key: owner.key, body: { apiKey: { displayName: "exposed" } } })).body;
      assert.equal((await h.call("POST", `${owner.keys}/${exposed.keyId}:disable`, { body: { disableReason: "EXPOSED" } })).status, 200);
      const downgrade = await h.call("POST", `${owner.keys}/${exposed.keyId}:disable`, { key: second.key, body: { disableReason: "OTHER" } });
      assert.equal(downgrade.status, 403, JSON.stringify(downgrade.body));
      assert.match(downgrade.body.error.message, /change the reason of a key disabled as EXPOSED to OTHER/);
      assert.equal((await h.call("POST", `${owner.keys}/${exposed.keyId}:enable`, { key: second.key, body: {} })).status, 403);
      assert.equal((await h.call("GET", `${owner.keys}/${exposed.keyId}`)).body.disableReason, "EXPOSED");
      assert.equal((await verify(exposed.key)).status, 401, "the exposed secret stays refused");
      // The owner may still call it COMPROMISED, which only an admin undoes as well.
      assert.equal((await h.call("POST", `${owner.keys}/${exposed.keyId}:disable`, { key: second.key, body: { disableReason: "COMPROMISED" } })).status, 200);
      const refusals = (
        await h.call(
          "GET",
          `${A}/auditLogs?filter=${encodeURIComponent(`method="DisableApiKey" AND resource="${exposed.name}" AND status:"PERMISSION_DENIED"`)}`,
        )
      ).body.auditLogs;
      assert.equal(refusals.length, 1, "the refusal is audited");

      // A key made through a leaked one, disabled as OTHER beforehand, is taken along as EXPOSED.
      const parent = await botWithKey("user");
      const child = (await h.call("POST", parent.keys, { key: parent.key, body: { apiKey: { displayName: "child" } } })).body;
      assert.equal((await h.call("POST", `${parent.keys}/${child.keyId}:disable`, { key: parent.key, body: { disableReason: "OTHER" } })).status, 200);
      const off = await h.call("POST", `${parent.keys}/${parent.keyId}:disable`, { body: { disableReason: "EXPOSED" } });
      assert.equal(off.status, 200);
      assert.equal((await h.call("GET", `${parent.keys}/${child.keyId}`)).body.disableReason, "EXPOSED");
      const entry = (
        await h.call(
          "GET",
          `${A}/auditLogs?filter=${encodeURIComponent(`method="DisableApiKey" AND resource="${A.slice(4)}/users/${parent.userId}/apiKeys/${parent.keyId}"`)}`,
        )
      ).body.auditLogs[0];
      assert.deepEqual(entry.payload.alsoDisabled, [child.name]);
    });

    test("lastUsedIp and lastUsedUserAgent are written behind with lastUsed", async () => {
      const bot = await botWithKey();
      assert.equal((await h.call("GET", "/verifyApiKey", { key: bot.key, headers: { "user-agent": "deploy-bot/1.2" } })).status, 200);
      const fresh = await h.call("GET", `${bot.keys}/${bot.keyId}`);
      assert.equal(fresh.body.lastUsedIp, "127.0.0.1");
      assert.equal(fresh.body.lastUsedUserAgent, "deploy-bot/1.2");
      await h.deps.lastUsed.flush();
      const row = await h.deps.store.db.selectFrom("api_keys").selectAll().where("id", "=", bot.keyId).executeTakeFirstOrThrow();
      assert.equal(row.last_used_ip, "127.0.0.1");
      assert.equal(row.last_used_user_agent, "deploy-bot/1.2");
      assert.ok(row.last_used !== null);
    });

    test("the key policy: admin-set and audited, readable by all; create and rotate that break it are 400s naming the rule", async () => {
      const plain = await botWithKey("user");
      const read = await h.call("GET", `${A}/keyPolicy`, { key: plain.key });
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, { name: "accounts/my-account/keyPolicy", requireExpiryForHumanKeys: false });
      const denied = await h.call("PATCH", `${A}/keyPolicy`, { key: plain.key, body: { maxKeyLifetime: "60s" } });
      assert.equal(denied.status, 403);
      const inverted = await h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "3600s", defaultKeyLifetime: "7200s" } });
      assert.equal(inverted.status, 400);
      assert.match(inverted.body.error.message, /defaultKeyLifetime 7200s exceeds maxKeyLifetime 3600s/);

      const set = await h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "604800s", defaultKeyLifetime: "86400s" } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body.maxKeyLifetime, "604800s");
      assert.equal(set.body.defaultKeyLifetime, "86400s");
      try {
        const bot = await botWithKey("user");
        const made = await h.call("GET", `${bot.keys}/${bot.keyId}`);
        assert.ok(Math.abs(Date.parse(made.body.expireTime) - (clock.now() + DAY)) < 60_000, "the default lifetime applies");
        const far = new Date(clock.now() + 30 * DAY).toISOString();
        const tooLong = await h.call("POST", bot.keys, { body: { apiKey: { expireTime: far } } });
        assert.equal(tooLong.status, 400);
        assert.match(tooLong.body.error.message, /breaks the account's key policy \(maxKeyLifetime 604800s\)/);
        const rotateTooLong = await h.call("POST", `${bot.keys}/${bot.keyId}:rotate`, { body: { expireTime: far } });
        assert.equal(rotateTooLong.status, 400);
        assert.match(rotateTooLong.body.error.message, /maxKeyLifetime/);
        // A key made before the policy, without expiry: its successor gets the default lifetime.
        const rotated = await h.call("POST", `${plain.keys}/${plain.keyId}:rotate`, { body: {} });
        assert.equal(rotated.status, 200);
        assert.ok(Math.abs(Date.parse(rotated.body.expireTime) - (clock.now() + DAY)) < 60_000);

        // Without a default, a key must name its expiry.
        const cleared = await h.call("PATCH", `${A}/keyPolicy?updateMask=defaultKeyLifetime`, { body: {} });
        assert.equal(cleared.status, 200);
        assert.equal(cleared.body.defaultKeyLifetime, undefined);
        const noExpiry = await h.call("POST", bot.keys, { body: { apiKey: {} } });
        assert.equal(noExpiry.status, 400);
        assert.match(noExpiry.body.error.message, /key policy \(maxKeyLifetime 604800s\) requires an expireTime/);

        // A human user's key must expire; a service account's need not.
        await h.call("PATCH", `${A}/keyPolicy?updateMask=maxKeyLifetime,requireExpiryForHumanKeys`, { body: { requireExpiryForHumanKeys: true } });
        const adminKeys = `${A}/users/${(await verify(h.adminKey)).body.userId}/apiKeys`;
        const human = await h.call("POST", adminKeys, { body: { apiKey: {} } });
        assert.equal(human.status, 400);
        assert.match(human.body.error.message, /requireExpiryForHumanKeys/);
        const week = new Date(clock.now() + 6 * DAY).toISOString();
        assert.equal((await h.call("POST", adminKeys, { body: { apiKey: { expireTime: week } } })).status, 200);
        assert.equal((await h.call("POST", bot.keys, { body: { apiKey: {} } })).status, 200);

        const audit = await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent('resource="accounts/my-account/keyPolicy"')}`);
        const entries = audit.body.auditLogs.filter((e: any) => e.method === "UpdateKeyPolicy");
        assert.ok(entries.length >= 4, `${entries.length} UpdateKeyPolicy entries`);
        assert.ok(
          entries.some((e: any) => e.isAdminAction && e.status.code === "PERMISSION_DENIED"),
          "the refusal is audited",
        );
      } finally {
        await h.call("PATCH", `${A}/keyPolicy?updateMask=*`, { body: {} });
      }
    });

    test("firectl api-key disable|enable|rotate and key-policy get|update", async () => {
      await h.listen();
      const home = mkdtempSync(join(tmpdir(), "firectl-lifecycle-"));
      const firectl = firectlAt(home, h.baseUrl, h.adminKey);
      try {
        const bot = await botWithKey();
        const off = await firectl(["api-key", "disable", bot.keyId, "--service-account", bot.userId, "--reason", "EXPOSED"]);
        assert.equal(off.code, 0, off.stderr);
        assert.match(off.stdout, /State:\s+DISABLED \(EXPOSED\)/);
        assert.match((await verify(bot.key)).body.error.message, /reason EXPOSED/);
        const on = await firectl(["api-key", "enable", bot.keyId, "--service-account", bot.userId]);
        assert.equal(on.code, 0, on.stderr);
        assert.equal((await verify(bot.key)).status, 200);
        const rotated = await firectl(["api-key", "rotate", bot.keyId, "--service-account", bot.userId, "--grace-period", "0s"]);
        assert.equal(rotated.code, 0, rotated.stderr);
        const secret = /API key: (\S+)/.exec(rotated.stdout)?.[1] ?? assert.fail(rotated.stdout);
        assert.equal((await verify(secret)).status, 200);
        assert.equal((await verify(bot.key)).status, 401);

        const update = await firectl(["key-policy", "update", "--max-key-lifetime", "90d", "--default-key-lifetime", "30d"]);
        assert.equal(update.code, 0, update.stderr);
        const got = await firectl(["key-policy", "get", "-o", "json"]);
        assert.equal(got.code, 0, got.stderr);
        assert.deepEqual(
          { ...JSON.parse(got.stdout), updateTime: undefined },
          {
            name: "accounts/my-account/keyPolicy",
            maxKeyLifetime: "7776000s",
            defaultKeyLifetime: "2592000s",
            requireExpiryForHumanKeys: false,
            updateTime: undefined,
          },
        );
        const removed = await firectl(["key-policy", "update", "--max-key-lifetime", "none", "--default-key-lifetime", "none"]);
        assert.equal(removed.code, 0, removed.stderr);
        assert.match(removed.stdout, /Max Key Lifetime:\s+none/);
        const bad = await firectl(["key-policy", "update", "--max-key-lifetime", "forever"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--max-key-lifetime/);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });

    // Last: it leaves a service account as the account's only admin who can act.
    test("the last live key of the account's last acting admin cannot be disabled", async () => {
      const root = await botWithKey("admin");
      const adminId = (await verify(h.adminKey)).body.userId;
      assert.equal((await h.call("PATCH", `${A}/users/${adminId}`, { key: root.key, body: { role: "user" } })).status, 200);
      const refused = await h.call("POST", `${root.keys}/${root.keyId}:disable`, { key: root.key, body: { disableReason: "OTHER" } });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /last live key of service account "bot-\d+", the account's last admin who can act/);
      assert.equal((await verify(root.key)).status, 200);
    });
  });
}

/** Polls `base` with `key` until /verifyApiKey answers `status`; returns how long that took (ms), or -1 after 5 s. */
async function seenAfter(base: string, key: string, status: number, since: number): Promise<number> {
  while (Date.now() - since < 5000) {
    if ((await callJson(base, key, "GET", "/verifyApiKey")).status === status) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

for (const mode of CLUSTER_MODES) {
  describe(`disable and enable across three processes on one PostgreSQL, coordinated by ${mode.name}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    const procs: Served[] = [];
    let admin = "";
    const accountId = `life-${randomBytes(4).toString("hex")}`;
    const P = `/v1/accounts/${accountId}`;

    before(async () => {
      db = await freshDatabase("postgres");
      const env = { ...db.env, ...mode.env, HEARTH_ACCOUNT_ID: accountId, HEARTH_LOG_LEVEL: "warn" };
      procs.push(await serve(env));
      procs.push(...(await Promise.all([serve(env), serve(env)])));
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await db.drop();
    });

    test("a key disabled through process 1 is refused by processes 2 and 3 within one second, naming the reason; enabled, accepted again", async () => {
      const [p1, p2, p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      assert.equal((await callJson(p1, admin, "POST", `${P}/users?userId=roamer`, { serviceAccount: true })).status, 200);
      const made = await callJson(p1, admin, "POST", `${P}/users/roamer/apiKeys`, { apiKey: {} });
      assert.equal(made.status, 200);
      const key: string = made.body.key;
      for (const base of [p2, p3]) for (let i = 0; i < 3; i++) assert.equal((await callJson(base, key, "GET", "/verifyApiKey")).status, 200, "cached as valid");
      const off = await callJson(p1, admin, "POST", `${P}/users/roamer/apiKeys/${made.body.keyId}:disable`, { disableReason: "EXPOSED" });
      assert.equal(off.status, 200);
      const disabled = Date.now();
      for (const base of [p2, p3]) {
        const after = await seenAfter(base, key, 401, disabled);
        assert.ok(after >= 0 && after <= 1000, `${base} refused the key after ${after} ms`);
        assert.match((await callJson(base, key, "GET", "/verifyApiKey")).body.error.message, /disabled \(reason EXPOSED/);
      }
      assert.equal((await callJson(p2, admin, "POST", `${P}/users/roamer/apiKeys/${made.body.keyId}:enable`, {})).status, 200);
      const enabled = Date.now();
      for (const base of [p1, p3]) {
        const after = await seenAfter(base, key, 200, enabled);
        assert.ok(after >= 0 && after <= 1000, `${base} accepted the key again after ${after} ms`);
      }
    });

    test("a key rotated with gracePeriod 0s through process 3 is refused by processes 1 and 2 within one second", async () => {
      const [p1, p2, p3] = procs.map((p) => p.baseUrl) as [string, string, string];
      const made = await callJson(p1, admin, "POST", `${P}/users/roamer/apiKeys`, { apiKey: {} });
      for (const base of [p1, p2]) assert.equal((await callJson(base, made.body.key, "GET", "/verifyApiKey")).status, 200);
      const rotated = await callJson(p3, admin, "POST", `${P}/users/roamer/apiKeys/${made.body.keyId}:rotate`, { gracePeriod: "0s" });
      assert.equal(rotated.status, 200);
      const at = Date.now();
      for (const base of [p1, p2]) {
        const after = await seenAfter(base, made.body.key, 401, at);
        assert.ok(after >= 0 && after <= 1000, `${base} refused the old key after ${after} ms`);
        assert.equal((await callJson(base, rotated.body.key, "GET", "/verifyApiKey")).status, 200);
      }
    });
  });
}
