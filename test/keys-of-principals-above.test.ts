import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";

/**
 * Changing, disabling, enabling, rotating or deleting another principal's API key is acting on that
 * principal, as revoking its sessions is (docs/roles.md): a custom role holding the `apiKeys.*Others`
 * actions cannot do it to a principal holding actions it does not (an admin), while it still
 * manages the keys of principals within its own actions.
 */
for (const dialect of DIALECTS) {
  describe(`the API keys of a principal above the caller (${dialect})`, () => {
    let h: TestHearth;
    const A = "/v1/accounts/my-account";
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("reproduction: a custom role holding the apiKeys.*Others actions cannot lock, disable, rotate, enable or delete an admin's keys", async () => {
      const keyActions = [
        "apiKeys.listOthers",
        "apiKeys.getOthers",
        "apiKeys.updateOthers",
        "apiKeys.disableOthers",
        "apiKeys.deleteOthers",
        "apiKeys.rotateForServiceAccount",
        "users.list",
      ];
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=keyops`, { body: { actions: keyActions } })).status, 200);
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=lister`, { body: { actions: ["users.list"] } })).status, 200);
      const ops = await serviceAccountWithKey(h, "keyops-bot", "inference-user");
      assert.equal((await h.call("PATCH", `${A}/users/keyops-bot`, { body: { permissionPreset: "keyops" } })).status, 200);
      const me = (await h.call("GET", "/verifyApiKey")).body;
      const root = await serviceAccountWithKey(h, "root-bot", "admin");
      const scoped = await h.call("POST", `${A}/users/root-bot/apiKeys`, { body: { apiKey: { scopes: ["users.list"] } } });
      assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
      const parked = await h.call("POST", `${A}/users/root-bot/apiKeys`, { body: { apiKey: {} } });
      assert.equal((await h.call("POST", `${A}/users/root-bot/apiKeys/${parked.body.keyId}:disable`, { body: { disableReason: "OTHER" } })).status, 200);

      // Each refusal names the act refused.
      const refused = async (act: string, method: string, path: string, body: unknown) => {
        const res = await h.call(method, `${A}${path}`, { key: ops.key, body });
        assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, new RegExp(`cannot ${act} the API keys of a principal with role "admin": it does not hold`));
      };
      await refused("change", "PATCH", `/users/${me.userId}/apiKeys/${me.keyId}?updateMask=allowedCidrs`, { allowedCidrs: ["192.0.2.0/24"] });
      await refused("disable", "POST", `/users/root-bot/apiKeys/${root.keyId}:disable`, { disableReason: "OTHER" });
      await refused("rotate", "POST", `/users/root-bot/apiKeys/${scoped.body.keyId}:rotate`, { gracePeriod: "0s" });
      await refused("enable", "POST", `/users/root-bot/apiKeys/${parked.body.keyId}:enable`, {});
      await refused("delete", "DELETE", `/users/root-bot/apiKeys/${root.keyId}`, undefined);

      // Containment is not acting on the admin: a key exposed or compromised is disabled by whoever
      // holds apiKeys.disableOthers (as a leak report disables it), and only an admin enables it again.
      const exposed = await h.call("POST", `${A}/users/root-bot/apiKeys/${parked.body.keyId}:disable`, { key: ops.key, body: { disableReason: "EXPOSED" } });
      assert.equal(exposed.status, 200, JSON.stringify(exposed.body));
      assert.equal(exposed.body.disableReason, "EXPOSED");
      await refused("enable", "POST", `/users/root-bot/apiKeys/${parked.body.keyId}:enable`, {});

      // The admins' keys are as they were.
      assert.equal((await h.call("GET", `${A}/users`)).status, 200, "the human admin's key still works from here");
      assert.equal((await h.call("GET", `${A}/users`, { key: root.key })).status, 200);
      assert.equal((await h.call("GET", `${A}/users`, { key: scoped.body.key })).status, 200);
      assert.equal((await h.call("GET", `${A}/users/root-bot/apiKeys/${parked.body.keyId}`)).body.state, "DISABLED");

      // A principal within its own actions is still its to manage.
      const peer = await serviceAccountWithKey(h, "peer-bot", "inference-user");
      assert.equal((await h.call("PATCH", `${A}/users/peer-bot`, { body: { permissionPreset: "lister" } })).status, 200);
      const disabled = await h.call("POST", `${A}/users/peer-bot/apiKeys/${peer.keyId}:disable`, { key: ops.key, body: { disableReason: "OTHER" } });
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      assert.equal((await h.call("DELETE", `${A}/users/peer-bot/apiKeys/${peer.keyId}`, { key: ops.key })).status, 200);
    });
  });
}
