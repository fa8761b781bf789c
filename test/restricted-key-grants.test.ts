import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";

/**
 * A key never does more than the key it acts through (docs/key-policies.md). An admin's key limited
 * to the loopback network once created a human admin, or promoted a human or a service account to
 * admin, and the human's sessions (or the account's own, older key) then acted as admin from any
 * network, with no rpm or spend limit: the key's limits were shed. Through such a key, no human is
 * created and nobody gains an action; narrowing, and creating a service account, stay open to it.
 */
for (const dialect of DIALECTS) {
  describe(`a restricted key gives nobody actions that would shed its limits (${dialect})`, () => {
    let h: TestHearth;
    let limited: Record<string, string>;
    before(async () => {
      h = await startHearth(dialect);
      limited = {};
      for (const restriction of [
        { allowedCidrs: ["127.0.0.0/8", "::1/128"] },
        { allowedModels: ["accounts/fireworks/models/*"] },
        { rpm: 1000 },
        { tpm: 100000 },
        { monthlySpendUsd: 5 },
      ]) {
        const made = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: restriction } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        limited[Object.keys(restriction)[0]!] = made.body.key;
      }
      await human(h, "bob@example.com", "user");
      await serviceAccountWithKey(h, "ci-bot", "inference-user");
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=readers`, { body: { actions: ["users.list", "users.get"] } })).status, 200);
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=unheld`, { body: { actions: ["users.list"] } })).status, 200);
      await human(h, "carol@example.com", "inference-user");
      assert.equal((await h.call("PATCH", `${A}/users/carol-example-com`, { body: { permissionPreset: "readers" } })).status, 200);
    });
    after(() => h.stop());

    test("no human user is created through it, whatever the role; the refusal is audited and nothing is stored", async () => {
      for (const [field, key] of Object.entries(limited)) {
        for (const role of ["admin", "inference-user"]) {
          const email = `mallory-${role}-${field.toLowerCase()}@example.com`;
          const res = await h.call("POST", `${A}/users`, { key, body: { email, role } });
          assert.equal(res.status, 403, `${field} ${role}: ${JSON.stringify(res.body)}`);
          assert.equal(
            res.body.error.message,
            `this API key cannot create human user "${email.replace("@", "-").replace(".", "-")}", so its sessions would shed the key's ${field}; use an unrestricted key or a console session`,
          );
        }
      }
      const listed = await h.call("GET", `${A}/users?filter=${encodeURIComponent('email:"mallory"')}`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.deepEqual(listed.body.users ?? [], []);
      const entries = await auditEntries(h, 'method="CreateUser" AND status:"would shed"');
      assert.equal(entries.length, 10);
      assert.ok(entries.every((e) => e.principal === "admin@example.com" && e.status.code === "PERMISSION_DENIED"));
    });

    test("it creates a service account, with any role it holds: its keys made through this key inherit the limits", async () => {
      const sa = await h.call("POST", `${A}/users?userId=deployer`, { key: limited.allowedCidrs, body: { serviceAccount: true, role: "admin" } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      const key = await h.call("POST", `${A}/users/deployer/apiKeys`, { key: limited.allowedCidrs, body: { apiKey: {} } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.deepEqual(key.body.allowedCidrs, ["127.0.0.0/8", "::1/128"]);
    });

    test("it promotes nobody: a human's or a service account's role is not widened, a narrowing is allowed", async () => {
      const promote = await h.call("PATCH", `${A}/users/bob-example-com`, { key: limited.monthlySpendUsd, body: { role: "admin" } });
      assert.equal(promote.status, 403, JSON.stringify(promote.body));
      assert.match(
        promote.body.error.message,
        /^this API key cannot give user "bob-example-com" actions it does not hold now \([a-zA-Z.]+, [a-zA-Z.]+, [a-zA-Z.]+ and \d+ more\), so its sessions and API keys would shed the key's monthlySpendUsd; use an unrestricted key or a console session$/,
      );
      const sa = await h.call("PATCH", `${A}/users/ci-bot`, { key: limited.allowedCidrs, body: { role: "user" } });
      assert.equal(sa.status, 403, JSON.stringify(sa.body));
      assert.match(
        sa.body.error.message,
        /^this API key cannot give service account "ci-bot" actions .* so its existing API keys would shed the key's allowedCidrs;/,
      );
      for (const [id, role] of [
        ["bob-example-com", "user"],
        ["ci-bot", "inference-user"],
      ]) {
        assert.equal((await h.call("GET", `${A}/users/${id}`)).body.role, role, `${id} keeps its role`);
      }
      const demote = await h.call("PATCH", `${A}/users/bob-example-com`, { key: limited.allowedCidrs, body: { role: "inference-user" } });
      assert.equal(demote.status, 200, JSON.stringify(demote.body));
      assert.equal(demote.body.role, "inference-user");
      const [entry] = await auditEntries(h, 'method="UpdateUser" AND resource:"ci-bot" AND status:"would shed"');
      assert.equal(entry.principal, "admin@example.com");
    });

    test("it widens a service account that has no API key, or a preset only such accounts hold (nothing would shed the limits, as when it creates one with that role); once it has one, no longer", async () => {
      const made = await h.call("POST", `${A}/users?userId=builder`, { key: limited.allowedCidrs, body: { serviceAccount: true, role: "inference-user" } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      for (const [field, key] of Object.entries(limited)) {
        const down = await h.call("PATCH", `${A}/users/builder`, { key, body: { role: "inference-user" } });
        assert.equal(down.status, 200, `${field}: ${JSON.stringify(down.body)}`);
        const up = await h.call("PATCH", `${A}/users/builder`, { key, body: { role: "contributor" } });
        assert.equal(up.status, 200, `${field}: ${JSON.stringify(up.body)}`);
        assert.equal(up.body.role, "contributor");
      }
      // A key made through the limited key inherits its networks; from then on the account has a
      // key, and a widening is refused as for any service account with keys.
      const key = await h.call("POST", `${A}/users/builder/apiKeys`, { key: limited.allowedCidrs, body: { apiKey: {} } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.deepEqual(key.body.allowedCidrs, ["127.0.0.0/8", "::1/128"]);
      const up = await h.call("PATCH", `${A}/users/builder`, { key: limited.allowedCidrs, body: { role: "user" } });
      assert.equal(up.status, 403, JSON.stringify(up.body));
      assert.match(
        up.body.error.message,
        /^this API key cannot give service account "builder" actions .* so its existing API keys would shed the key's allowedCidrs;/,
      );
      // A disabled key could be enabled again: it still counts.
      const disabled = await h.call("POST", `${A}/users/builder/apiKeys/${key.body.keyId}:disable`, { body: { disableReason: "UNUSED" } });
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      assert.equal((await h.call("PATCH", `${A}/users/builder`, { key: limited.rpm, body: { role: "user" } })).status, 403);
      assert.equal((await h.call("GET", `${A}/users/builder`)).body.role, "contributor");

      // So for a preset: held only by a service account without keys, it may gain actions; once that
      // account has a key, no longer.
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=bots`, { body: { actions: ["models.list"] } })).status, 200);
      const bot = await h.call("POST", `${A}/users?userId=bot`, { body: { serviceAccount: true, permissionPreset: "bots" } });
      assert.equal(bot.status, 200, JSON.stringify(bot.body));
      const widened = await h.call("PATCH", `${A}/permissionPresets/bots`, { key: limited.rpm, body: { actions: ["models.list", "models.get"] } });
      assert.equal(widened.status, 200, JSON.stringify(widened.body));
      assert.equal((await h.call("POST", `${A}/users/bot/apiKeys`, { body: { apiKey: {} } })).status, 200);
      const refused = await h.call("PATCH", `${A}/permissionPresets/bots`, {
        key: limited.rpm,
        body: { actions: ["models.list", "models.get", "datasets.list"] },
      });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /so the principal holding it would shed the key's rpm;/);
    });

    test("a preset somebody holds gains no action through it; one nobody holds, or a narrowing, may change", async () => {
      const widen = await h.call("PATCH", `${A}/permissionPresets/readers`, {
        key: limited.rpm,
        body: { actions: ["users.list", "users.get", "users.create"] },
      });
      assert.equal(widen.status, 403, JSON.stringify(widen.body));
      assert.equal(
        widen.body.error.message,
        `this API key cannot give permission preset "readers" actions it does not hold now (users.create), so the principal holding it would shed the key's rpm; use an unrestricted key or a console session`,
      );
      assert.deepEqual((await h.call("GET", `${A}/permissionPresets/readers`)).body.actions, ["users.get", "users.list"]);
      const narrow = await h.call("PATCH", `${A}/permissionPresets/readers`, { key: limited.rpm, body: { actions: ["users.list"] } });
      assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
      const unheld = await h.call("PATCH", `${A}/permissionPresets/unheld`, { key: limited.rpm, body: { actions: ["users.list", "users.create"] } });
      assert.equal(unheld.status, 200, JSON.stringify(unheld.body));
    });

    test("it enables no disabled key wider than itself: whoever holds that secret would act beyond its limits", async () => {
      // An old, unrestricted key of a service account, disabled as unused; its secret is still out there.
      const old = await serviceAccountWithKey(h, "old-bot", "admin");
      const disabled = await h.call("POST", `${A}/users/old-bot/apiKeys/${old.keyId}:disable`, { body: { disableReason: "UNUSED" } });
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      const enable = (key: string, keyId = old.keyId) => h.call("POST", `${A}/users/old-bot/apiKeys/${keyId}:enable`, { key, body: {} });
      const byNetwork = await enable(limited.allowedCidrs!);
      assert.equal(byNetwork.status, 403, JSON.stringify(byNetwork.body));
      assert.equal(
        byNetwork.body.error.message,
        "allowedCidrs unrestricted would go beyond this API key's own allowedCidrs 127.0.0.0/8, ::1/128: a key that a restricted key creates, changes, rotates or enables stays within its restrictions",
      );
      const scoped = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: { scopes: ["apiKeys.disableOthers"] } } });
      const byScopes = await enable(scoped.body.key);
      assert.equal(byScopes.status, 403, JSON.stringify(byScopes.body));
      // Refused as wider than the acting key, or first as acting on a principal above the key's scopes.
      assert.match(
        byScopes.body.error.message,
        /^this API key (is limited to scopes apiKeys\.disableOthers|cannot enable the API keys of a principal with role "admin")/,
      );
      const bySpend = await enable(limited.monthlySpendUsd!);
      assert.equal(bySpend.status, 403, JSON.stringify(bySpend.body));
      assert.match(bySpend.body.error.message, /^monthlySpendUsd unlimited would go beyond this API key's own monthlySpendUsd 5:/);
      assert.equal((await h.call("GET", `${A}/users/old-bot/apiKeys/${old.keyId}`)).body.state, "DISABLED");
      const [entry] = await auditEntries(h, `method="EnableApiKey" AND resource:"${old.keyId}"`);
      assert.equal(entry.status.code, "PERMISSION_DENIED");
      // A key made through the limited key, disabled, is enabled through it again.
      const child = await h.call("POST", `${A}/users/old-bot/apiKeys`, { key: limited.monthlySpendUsd, body: { apiKey: {} } });
      assert.equal(child.status, 200, JSON.stringify(child.body));
      assert.equal((await h.call("POST", `${A}/users/old-bot/apiKeys/${child.body.keyId}:disable`, { body: { disableReason: "OTHER" } })).status, 200);
      const again = await enable(limited.monthlySpendUsd!, child.body.keyId);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.state, "ENABLED");
      // A key with the same spend limit but counters of its own is a budget beside the acting key's.
      const sibling = await h.call("POST", `${A}/users/old-bot/apiKeys`, { body: { apiKey: { monthlySpendUsd: 5 } } });
      assert.equal((await h.call("POST", `${A}/users/old-bot/apiKeys/${sibling.body.keyId}:disable`, { body: { disableReason: "OTHER" } })).status, 200);
      const separate = await enable(limited.monthlySpendUsd!, sibling.body.keyId);
      assert.equal(separate.status, 403, JSON.stringify(separate.body));
      assert.match(separate.body.error.message, /so it may enable only keys that share its counters/);
      // An admin's console session or unrestricted key enables it.
      assert.equal((await enable(h.adminKey)).status, 200);
    });

    test("a key with only an expiry still creates and promotes humans: an expiry bounds how long the key works, not what it may give", async () => {
      const expiring = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, {
        body: { apiKey: { expireTime: new Date(Date.now() + 3_600_000).toISOString() } },
      });
      assert.equal(expiring.status, 200, JSON.stringify(expiring.body));
      const made = await h.call("POST", `${A}/users`, { key: expiring.body.key, body: { email: "dave@example.com", role: "user" } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const promoted = await h.call("PATCH", `${A}/users/dave-example-com`, { key: expiring.body.key, body: { role: "admin" } });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    });
  });
}
