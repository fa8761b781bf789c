import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";

/**
 * A key of a service account acts as that account: what is its own there (the datasets, models and
 * deployments it created, its keys, its audit entries) is another's to whoever mints the key. So
 * minting one (scoped or not) needs the actions over others' things, or a custom role holding only
 * `datasets.manageOwn` and `apiKeys.createForServiceAccount` could delete another's dataset.
 */
for (const dialect of DIALECTS) {
  describe(`acting as a service account through a key minted for it (${dialect})`, () => {
    let h: TestHearth;
    const A = "/v1/accounts/my-account";
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    const preset = async (id: string, actions: string[]) => {
      const made = await h.call("POST", `${A}/permissionPresets?permissionPresetId=${id}`, { body: { actions } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    };
    const holder = async (userId: string, presetId: string) => {
      const { key, keyId } = await serviceAccountWithKey(h, userId, "inference-user");
      const given = await h.call("PATCH", `${A}/users/${userId}`, { body: { permissionPreset: presetId } });
      assert.equal(given.status, 200, JSON.stringify(given.body));
      return { key, keyId };
    };

    test("reproduction: a custom role holding datasets.manageOwn cannot reach another's datasets by minting that account a key", async () => {
      const own = ["datasets.create", "datasets.get", "datasets.list", "datasets.manageOwn"];
      await preset("buildp", own);
      await preset("mintp", [...own, "apiKeys.createForServiceAccount", "apiKeys.rotateForServiceAccount"]);
      const builder = await holder("builder", "buildp");
      const minter = await holder("minter", "mintp");

      const made = await h.call("POST", `${A}/datasets?datasetId=builder-data`, { key: builder.key, body: {} });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const direct = await h.call("DELETE", `${A}/datasets/builder-data`, { key: minter.key });
      assert.equal(direct.status, 403, JSON.stringify(direct.body));

      // A scoped key whose scope is over the owner's own datasets: refused, naming the action over others'.
      const scoped = await h.call("POST", `${A}/users/builder/apiKeys`, { key: minter.key, body: { apiKey: { scopes: ["datasets.manageOwn"] } } });
      assert.equal(scoped.status, 403, JSON.stringify(scoped.body));
      assert.match(
        scoped.body.error.message,
        /cannot give an API key of "builder", which acts as it, scopes over what is its own: it does not hold datasets\.manageOthers/,
      );
      // An unscoped key holds the owner's whole role: refused too, though the minter holds every action of it by name.
      const unscoped = await h.call("POST", `${A}/users/builder/apiKeys`, { key: minter.key, body: { apiKey: {} } });
      assert.equal(unscoped.status, 403, JSON.stringify(unscoped.body));
      assert.match(
        unscoped.body.error.message,
        /cannot act as "builder" \(permission preset "buildp"\) through an API key of it: it does not hold datasets\.manageOthers/,
      );
      // Nor by rotating a key an admin gave such a scope: its successor would go to the minter.
      const adminMade = await h.call("POST", `${A}/users/builder/apiKeys`, { body: { apiKey: { scopes: ["datasets.manageOwn", "datasets.get"] } } });
      assert.equal(adminMade.status, 200, JSON.stringify(adminMade.body));
      const rotated = await h.call("POST", `${A}/users/builder/apiKeys/${adminMade.body.keyId}:rotate`, { key: minter.key, body: { gracePeriod: "0s" } });
      assert.equal(rotated.status, 403, JSON.stringify(rotated.body));
      assert.match(rotated.body.error.message, /does not hold datasets\.manageOthers/);
      assert.equal((await h.call("GET", `${A}/datasets/builder-data`)).status, 200, "the dataset stays");

      // A scope over nothing of the owner's own is still given, and an admin still mints any key.
      const reader = await h.call("POST", `${A}/users/builder/apiKeys`, { key: minter.key, body: { apiKey: { scopes: ["datasets.get"] } } });
      assert.equal(reader.status, 200, JSON.stringify(reader.body));
      assert.equal((await h.call("DELETE", `${A}/datasets/builder-data`, { key: reader.body.key })).status, 403);
      assert.equal((await h.call("POST", `${A}/users/builder/apiKeys`, { body: { apiKey: {} } })).status, 200);
    });

    test("reproduction: one that may mint a service account's keys cannot lower its role, mint it an unscoped key and raise the role again", async () => {
      const own = ["datasets.create", "datasets.get", "datasets.list", "datasets.manageOwn"];
      await preset("ownerp", own);
      await preset("tinyp", ["datasets.get"]);
      await preset("raisep", [...own, "users.get", "users.update", "permissionPresets.update", "apiKeys.createForServiceAccount"]);
      const owner = await holder("data-owner", "ownerp");
      const raiser = await holder("raiser", "raisep");
      const made = await h.call("POST", `${A}/datasets?datasetId=owner-data`, { key: owner.key, body: {} });
      assert.equal(made.status, 200, JSON.stringify(made.body));

      // Lowering it and minting for the lowered role are within the raiser's actions.
      assert.equal((await h.call("PATCH", `${A}/users/data-owner`, { key: raiser.key, body: { permissionPreset: "tinyp" } })).status, 200);
      const minted = await h.call("POST", `${A}/users/data-owner/apiKeys`, { key: raiser.key, body: { apiKey: {} } });
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      // Raising it again, by a role change or by editing the preset it now holds, would give that key datasets.manageOwn.
      const raised = await h.call("PATCH", `${A}/users/data-owner`, { key: raiser.key, body: { permissionPreset: "ownerp" } });
      assert.equal(raised.status, 403, JSON.stringify(raised.body));
      assert.match(
        raised.body.error.message,
        /cannot give service account "data-owner", whose keys it may mint, permission preset "ownerp": it does not hold datasets\.manageOthers/,
      );
      const edited = await h.call("PATCH", `${A}/permissionPresets/tinyp`, { key: raiser.key, body: { actions: own } });
      assert.equal(edited.status, 403, JSON.stringify(edited.body));
      assert.match(edited.body.error.message, /it does not hold datasets\.manageOthers/);
      assert.deepEqual((await h.call("GET", `${A}/permissionPresets/tinyp`)).body.actions, ["datasets.get"]);
      assert.equal((await h.call("DELETE", `${A}/datasets/owner-data`, { key: minted.body.key })).status, 403);
      assert.equal((await h.call("GET", `${A}/datasets/owner-data`)).status, 200, "the dataset stays");
      // An admin still raises it (and the key it holds then acts with the role an admin gave).
      assert.equal((await h.call("PATCH", `${A}/users/data-owner`, { body: { permissionPreset: "ownerp" } })).status, 200);
    });

    test("reproduction: nor does it raise the role again through a key of its own scoped without the key-minting actions", async () => {
      const own = ["datasets.create", "datasets.get", "datasets.list", "datasets.manageOwn"];
      await preset("owner2p", own);
      await preset("tiny2p", ["datasets.get"]);
      const raising = [...own, "users.get", "users.update", "permissionPresets.update"];
      await preset("raise2p", [...raising, "apiKeys.createForServiceAccount", "apiKeys.create"]);
      const owner = await holder("data-owner2", "owner2p");
      const raiser = await holder("raiser2", "raise2p");
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=owner2-data`, { key: owner.key, body: {} })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/users/data-owner2`, { key: raiser.key, body: { permissionPreset: "tiny2p" } })).status, 200);
      const minted = await h.call("POST", `${A}/users/data-owner2/apiKeys`, { key: raiser.key, body: { apiKey: {} } });
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      // A key of the raiser's own, scoped to everything but apiKeys.createForServiceAccount: the raiser still mints through its other key.
      const scoped = await h.call("POST", `${A}/users/raiser2/apiKeys`, { key: raiser.key, body: { apiKey: { scopes: raising } } });
      assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
      const raised = await h.call("PATCH", `${A}/users/data-owner2`, { key: scoped.body.key, body: { permissionPreset: "owner2p" } });
      assert.equal(raised.status, 403, JSON.stringify(raised.body));
      assert.match(
        raised.body.error.message,
        /cannot give service account "data-owner2", whose keys it may mint, permission preset "owner2p": .*datasets\.manageOthers/,
      );
      const edited = await h.call("PATCH", `${A}/permissionPresets/tiny2p`, { key: scoped.body.key, body: { actions: own } });
      assert.equal(edited.status, 403, JSON.stringify(edited.body));
      assert.equal((await h.call("GET", `${A}/users/data-owner2`)).body.permissionPreset, "tiny2p");
      assert.equal((await h.call("DELETE", `${A}/datasets/owner2-data`, { key: minted.body.key })).status, 403);
      assert.equal((await h.call("GET", `${A}/datasets/owner2-data`)).status, 200, "the dataset stays");
    });

    test("one that may mint its keys still sends a service account's role back unchanged, or narrows it: only the actions gained are checked", async () => {
      const own = ["datasets.create", "datasets.get", "datasets.list", "datasets.manageOwn"];
      await preset("owner3p", own);
      await preset("narrow3p", ["datasets.get", "datasets.manageOwn"]);
      await preset("mgr3p", [...own, "users.get", "users.update", "permissionPresets.update", "apiKeys.createForServiceAccount"]);
      await holder("data-owner3", "owner3p");
      const mgr = await holder("mgr3", "mgr3p");
      // As the console's role dialog sends it: role and preset, unchanged.
      const same = await h.call("PATCH", `${A}/users/data-owner3?updateMask=role,permissionPreset`, {
        key: mgr.key,
        body: { role: "custom", permissionPreset: "owner3p" },
      });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      const narrowed = await h.call("PATCH", `${A}/users/data-owner3`, { key: mgr.key, body: { permissionPreset: "narrow3p" } });
      assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
      const edited = await h.call("PATCH", `${A}/permissionPresets/narrow3p`, { key: mgr.key, body: { actions: ["datasets.manageOwn"] } });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      // Gaining datasets.manageOwn again is still refused (the earlier tests show why).
      await preset("bare3p", ["datasets.get"]);
      assert.equal((await h.call("PATCH", `${A}/users/data-owner3`, { key: mgr.key, body: { permissionPreset: "bare3p" } })).status, 200);
      const regained = await h.call("PATCH", `${A}/users/data-owner3`, { key: mgr.key, body: { permissionPreset: "narrow3p" } });
      assert.equal(regained.status, 403, JSON.stringify(regained.body));
      assert.match(regained.body.error.message, /it does not hold datasets\.manageOthers$/);
    });

    test("reproduction: a scope over the owner's own keys needs the action over others' keys", async () => {
      await preset("keyp", ["apiKeys.createForServiceAccount", "apiKeys.delete", "apiKeys.list"]);
      await preset("plainp", ["apiKeys.delete", "apiKeys.list"]);
      const minter = await holder("key-minter", "keyp");
      const target = await holder("key-target", "plainp");
      assert.equal((await h.call("GET", `${A}/users/key-target/apiKeys`, { key: target.key })).status, 200);
      const minted = await h.call("POST", `${A}/users/key-target/apiKeys`, { key: minter.key, body: { apiKey: { scopes: ["apiKeys.delete"] } } });
      assert.equal(minted.status, 403, JSON.stringify(minted.body));
      assert.match(minted.body.error.message, /it does not hold apiKeys\.deleteOthers/);
      assert.equal((await h.call("GET", `${A}/users/key-target/apiKeys/${target.keyId}`)).body.state, "ENABLED");
    });
  });
}
