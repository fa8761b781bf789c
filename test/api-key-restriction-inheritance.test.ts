import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../src/domain/clock.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";

/**
 * A key never does more than the key it is made, changed or rotated through: over HTTP, a restricted
 * key's create inherits every restriction the request leaves unset, and any wider one (a network
 * outside its own, a model it may not call, a larger limit, a lifted restriction) is a 403 naming
 * the field and the acting key's limit — on create, on UpdateApiKey (its own key or a service
 * account's) and on rotate. And a request refused by a key's allowedCidrs is no use: lastUsed and
 * lastUsedIp stay as they were.
 */

const A = "/v1/accounts/my-account";
const INSIDE = "203.0.113.9";
const OUTSIDE = "198.51.100.7";
const from = (address: string) => ({ "x-forwarded-for": address });
const LIMITS = {
  allowedCidrs: ["203.0.113.0/24"],
  allowedModels: ["accounts/fireworks/models/*"],
  rpm: 10,
  tpm: 1000,
  monthlySpendUsd: 5,
};

for (const dialect of DIALECTS) {
  describe(`restrictions of keys made through a restricted key (${dialect})`, () => {
    let h: TestHearth;
    const clock = new ManualClock();
    let adminId: string;
    let n = 0;
    /** A key of the admin itself (its whole role: no scopes) with `LIMITS`, made by the unrestricted bootstrap key. */
    async function restrictedAdminKey(): Promise<{ key: string; keyId: string }> {
      const made = await h.call("POST", `${A}/users/${adminId}/apiKeys`, { body: { apiKey: LIMITS } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      return made.body;
    }
    /** A new service account (role user) and its path. */
    async function serviceAccount(): Promise<string> {
      const userId = `bot-${++n}`;
      assert.equal((await h.call("POST", `${A}/users?userId=${userId}`, { body: { serviceAccount: true, role: "user" } })).status, 200);
      return `${A}/users/${userId}/apiKeys`;
    }

    before(async () => {
      h = await startHearth(dialect, { HEARTH_TRUST_PROXY: "true" }, { clock });
      adminId = (await h.call("GET", "/verifyApiKey")).body.userId;
    });
    after(() => h.stop());

    test("a key made through a restricted key inherits every restriction the request leaves unset", async () => {
      const acting = await restrictedAdminKey();
      const own = await h.call("POST", `${A}/users/${adminId}/apiKeys`, { key: acting.key, headers: from(INSIDE), body: { apiKey: {} } });
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.deepEqual(
        [own.body.allowedCidrs, own.body.allowedModels, own.body.rpm, own.body.tpm, own.body.monthlySpendUsd],
        [["203.0.113.0/24"], ["accounts/fireworks/models/*"], 10, 1000, 5],
      );
      // From the child key itself: its network is the parent's.
      assert.equal((await h.call("GET", A, { key: own.body.key, headers: from(OUTSIDE) })).status, 403);
      assert.equal((await h.call("GET", A, { key: own.body.key, headers: from(INSIDE) })).status, 200);

      const keys = await serviceAccount();
      const narrower = { rpm: 5, allowedCidrs: ["203.0.113.128/25"] };
      const sa = await h.call("POST", keys, { key: acting.key, headers: from(INSIDE), body: { apiKey: narrower } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      const got = await h.call("GET", `${keys}/${sa.body.keyId}`);
      assert.deepEqual(
        [got.body.allowedCidrs, got.body.allowedModels, got.body.rpm, got.body.tpm, got.body.monthlySpendUsd],
        [["203.0.113.128/25"], ["accounts/fireworks/models/*"], 5, 1000, 5],
        "what the request sets (within the parent) is kept, the rest inherited",
      );

      // An unrestricted key's create inherits nothing.
      const plain = await h.call("POST", keys, { body: { apiKey: {} } });
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.equal(plain.body.allowedCidrs, undefined);
      assert.equal(plain.body.rpm, undefined);
    });

    test("a create through a restricted key wider on any restriction is a 403 naming the field and the key's limit, and audited", async () => {
      const acting = await restrictedAdminKey();
      const keys = await serviceAccount();
      const create = (apiKey: Record<string, unknown>, path = `${A}/users/${adminId}/apiKeys`) =>
        h.call("POST", path, { key: acting.key, headers: from(INSIDE), body: { apiKey } });
      const wider: [Record<string, unknown>, RegExp][] = [
        [{ allowedCidrs: ["0.0.0.0/0"] }, /allowedCidrs 0\.0\.0\.0\/0 would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/],
        [{ allowedCidrs: ["203.0.112.0/23"] }, /allowedCidrs 203\.0\.112\.0\/23 would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/],
        [{ allowedCidrs: ["203.0.113.0/25", "2001:db8::/32"] }, /allowedCidrs 2001:db8::\/32 would go beyond/],
        [{ allowedCidrs: [] }, /allowedCidrs unrestricted would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/],
        [
          { allowedModels: ["accounts/my-account/models/*"] },
          /allowedModels accounts\/my-account\/models\/\* would go beyond this API key's own allowedModels accounts\/fireworks\/models\/\*/,
        ],
        [{ allowedModels: [] }, /allowedModels unrestricted would go beyond/],
        [{ rpm: 11 }, /rpm 11 would go beyond this API key's own rpm 10/],
        [{ rpm: 0 }, /rpm unlimited would go beyond this API key's own rpm 10/],
        [{ tpm: 1001 }, /tpm 1001 would go beyond this API key's own tpm 1000/],
        [{ monthlySpendUsd: 5.01 }, /monthlySpendUsd 5\.01 would go beyond this API key's own monthlySpendUsd 5/],
        [{ monthlySpendUsd: 0 }, /monthlySpendUsd unlimited would go beyond this API key's own monthlySpendUsd 5/],
      ];
      for (const [apiKey, message] of wider) {
        for (const path of [`${A}/users/${adminId}/apiKeys`, keys]) {
          const res = await create(apiKey, path);
          assert.equal(res.status, 403, `${JSON.stringify(apiKey)} for ${path}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.error.message, message);
        }
      }
      const within = await create(
        { allowedCidrs: ["203.0.113.7"], allowedModels: ["accounts/fireworks/models/tiny"], rpm: 10, tpm: 1, monthlySpendUsd: 4.5 },
        keys,
      );
      assert.equal(within.status, 200, JSON.stringify(within.body));
      assert.deepEqual(within.body.allowedCidrs, ["203.0.113.7/32"]);

      const refused = await auditEntries(h, `method="CreateApiKey" AND status:"PERMISSION_DENIED" AND api_key_id="${acting.keyId}"`);
      assert.equal(refused.length, wider.length * 2, "every refusal audited");
    });

    test("UpdateApiKey through a restricted key: its own key or a service account's key is never set wider than it", async () => {
      const acting = await restrictedAdminKey();
      const patch = (path: string, body: Record<string, unknown>) => h.call("PATCH", path, { key: acting.key, headers: from(INSIDE), body });
      const self = `${A}/users/${adminId}/apiKeys/${acting.keyId}`;
      for (const [body, message] of [
        [{ allowedCidrs: [] }, /allowedCidrs unrestricted would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/],
        [{ allowedCidrs: ["0.0.0.0/0"] }, /allowedCidrs 0\.0\.0\.0\/0 would go beyond/],
        [{ rpm: 20 }, /rpm 20 would go beyond this API key's own rpm 10/],
        [{ tpm: 0 }, /tpm unlimited would go beyond this API key's own tpm 1000/],
        [{ monthlySpendUsd: 6 }, /monthlySpendUsd 6 would go beyond this API key's own monthlySpendUsd 5/],
        [{ allowedModels: ["accounts/other/models/m"] }, /allowedModels accounts\/other\/models\/m would go beyond/],
      ] as const) {
        const res = await patch(self, body);
        assert.equal(res.status, 403, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message);
      }
      const unchanged = await h.call("GET", self);
      assert.deepEqual([unchanged.body.allowedCidrs, unchanged.body.rpm, unchanged.body.tpm], [["203.0.113.0/24"], 10, 1000]);

      // A service account's key, made unrestricted by the bootstrap key: the restricted admin key
      // cannot widen it past itself, only set it within.
      const keys = await serviceAccount();
      const sa = await h.call("POST", keys, { body: { apiKey: {} } });
      const saKey = `${keys}/${sa.body.keyId}`;
      const wide = await patch(saKey, { allowedCidrs: ["10.0.0.0/8"] });
      assert.equal(wide.status, 403);
      assert.match(wide.body.error.message, /allowedCidrs 10\.0\.0\.0\/8 would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/);
      const narrowed = await patch(saKey, { allowedCidrs: ["203.0.113.0/26"], rpm: 3 });
      assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
      assert.deepEqual([narrowed.body.allowedCidrs, narrowed.body.rpm], [["203.0.113.0/26"], 3]);
      const lifted = await patch(saKey, { rpm: 0 });
      assert.equal(lifted.status, 403);
      assert.match(lifted.body.error.message, /rpm unlimited would go beyond this API key's own rpm 10/);

      // Narrowing its own key is allowed.
      const self5 = await patch(self, { rpm: 5 });
      assert.equal(self5.status, 200, JSON.stringify(self5.body));
      assert.equal(self5.body.rpm, 5);
    });

    test("rotate through a restricted key: a key wider than it is refused naming the field; a key within it rotates", async () => {
      const acting = await restrictedAdminKey();
      const keys = await serviceAccount();
      const unrestricted = await h.call("POST", keys, { body: { apiKey: {} } });
      const refused = await h.call("POST", `${keys}/${unrestricted.body.keyId}:rotate`, { key: acting.key, headers: from(INSIDE), body: {} });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /allowedCidrs unrestricted would go beyond this API key's own allowedCidrs 203\.0\.113\.0\/24/);

      const wideRpm = await h.call("POST", keys, { body: { apiKey: { ...LIMITS, rpm: 100 } } });
      const refusedRpm = await h.call("POST", `${keys}/${wideRpm.body.keyId}:rotate`, { key: acting.key, headers: from(INSIDE), body: {} });
      assert.equal(refusedRpm.status, 403);
      assert.match(refusedRpm.body.error.message, /rpm 100 would go beyond this API key's own rpm 10/);

      const inherited = await h.call("POST", keys, { key: acting.key, headers: from(INSIDE), body: { apiKey: {} } });
      const rotated = await h.call("POST", `${keys}/${inherited.body.keyId}:rotate`, { key: acting.key, headers: from(INSIDE), body: {} });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.deepEqual([rotated.body.allowedCidrs, rotated.body.rpm, rotated.body.monthlySpendUsd], [["203.0.113.0/24"], 10, 5]);
    });

    test("a request refused by the key's allowedCidrs is no use: lastUsed and lastUsedIp stay as they were", async () => {
      const keys = await serviceAccount();
      const made = await h.call("POST", keys, { body: { apiKey: { allowedCidrs: ["203.0.113.0/24"] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const path = `${keys}/${made.body.keyId}`;
      const key = made.body.key as string;

      // Refused before its first use (the key not yet cached): no use at all.
      assert.equal((await h.call("GET", "/verifyApiKey", { key, headers: from(OUTSIDE) })).status, 403);
      const unused = await h.call("GET", path);
      assert.equal(unused.body.lastUsed, undefined, JSON.stringify(unused.body));
      assert.equal(unused.body.lastUsedIp, undefined);

      const used = await h.call("GET", "/verifyApiKey", { key, headers: { ...from(INSIDE), "user-agent": "inside/1" } });
      assert.equal(used.status, 200);
      const first = (await h.call("GET", path)).body;
      assert.equal(first.lastUsedIp, INSIDE);

      // An hour later, refused from outside (the key cached now): on /verifyApiKey and on the control plane.
      clock.advance(3_600_000);
      assert.equal((await h.call("GET", "/verifyApiKey", { key, headers: { ...from(OUTSIDE), "user-agent": "outside/1" } })).status, 403);
      assert.equal((await h.call("GET", A, { key, headers: from(OUTSIDE) })).status, 403);
      const after = (await h.call("GET", path)).body;
      assert.deepEqual([after.lastUsed, after.lastUsedIp, after.lastUsedUserAgent], [first.lastUsed, INSIDE, "inside/1"]);

      await h.deps.lastUsed.flush();
      const row = await h.deps.store.db.selectFrom("api_keys").selectAll().where("id", "=", made.body.keyId).executeTakeFirstOrThrow();
      assert.equal(row.last_used_ip, INSIDE, "the stored address is the allowed one");
      assert.equal(row.last_used_user_agent, "inside/1");
      assert.equal(new Date(first.lastUsed).getTime(), Number(row.last_used));
    });
  });
}
