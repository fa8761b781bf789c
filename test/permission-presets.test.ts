import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { callJson } from "./support/cluster-modes.ts";
import { DIALECTS, freshDatabase, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries, human, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";
import { field, firectlShell, ok } from "./support/run.ts";
import { serve, type Served } from "./support/process.ts";
import { createSigninLink } from "../src/service/signin-links.ts";

/**
 * Custom roles (Fireworks' role `custom` with a permission preset), over HTTP: a preset is a set of
 * action names; its holders can do exactly those; an edit applies to the next request; a preset in
 * use is not deleted; a custom role never counts as an admin.
 */
for (const dialect of DIALECTS) {
  describe(`permission presets (${dialect})`, () => {
    let h: TestHearth;
    const A = "/v1/accounts/my-account";
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("an admin creates, reads and lists a preset; the actions come back sorted without repeats", async () => {
      const made = await h.call("POST", `${A}/permissionPresets?permissionPresetId=reader`, {
        body: { displayName: "Reader", actions: ["users.list", "models.list", "users.list"] },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.name, "accounts/my-account/permissionPresets/reader");
      assert.deepEqual(made.body.actions, ["models.list", "users.list"]);
      const got = await h.call("GET", `${A}/permissionPresets/reader`);
      assert.equal(got.status, 200);
      assert.equal(got.body.displayName, "Reader");
      const listed = await h.call("GET", `${A}/permissionPresets`);
      assert.deepEqual(
        listed.body.permissionPresets.map((p: { name: string }) => p.name),
        ["accounts/my-account/permissionPresets/reader"],
      );
    });

    test("an unknown action name is refused with 400 naming it", async () => {
      const res = await h.call("POST", `${A}/permissionPresets?permissionPresetId=bad`, { body: { actions: ["models.list", "models.fly"] } });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /unknown action "models\.fly"/);
      const empty = await h.call("POST", `${A}/permissionPresets?permissionPresetId=bad`, { body: { actions: [] } });
      assert.equal(empty.status, 400);
      assert.match(empty.body.error.message, /at least one action/);
      assert.equal((await h.call("GET", `${A}/permissionPresets/bad`)).status, 404);
    });

    test("a service account with role custom can do exactly its preset's actions", async () => {
      const preset = await h.call("POST", `${A}/permissionPresets?permissionPresetId=lister`, { body: { actions: ["users.list"] } });
      assert.equal(preset.status, 200);
      const { key } = await serviceAccountWithKey(h, "bot", "user");
      const assigned = await h.call("PATCH", `${A}/users/bot`, { body: { role: "custom", permissionPreset: "lister" } });
      assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
      assert.equal(assigned.body.role, "custom");
      assert.equal(assigned.body.permissionPreset, "lister");
      assert.equal((await h.call("GET", `${A}/users`, { key })).status, 200);
      const refused = await h.call("GET", `${A}/models`, { key });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /role "custom" \(permission preset "lister"\) cannot list models/);
    });

    test("editing a preset changes what its holders may do on their next request", async () => {
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=swing`, { body: { actions: ["users.list"] } })).status, 200);
      const made = await h.call("POST", `${A}/users?userId=swinger`, { body: { serviceAccount: true, permissionPreset: "swing" } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.role, "custom", "a preset alone implies role custom");
      const key = (await h.call("POST", `${A}/users/swinger/apiKeys`, { body: { apiKey: {} } })).body.key;
      assert.equal((await h.call("GET", `${A}/users`, { key })).status, 200);
      assert.equal((await h.call("GET", `${A}/models`, { key })).status, 403);
      const edited = await h.call("PATCH", `${A}/permissionPresets/swing`, { body: { actions: ["models.list"] } });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal((await h.call("GET", `${A}/models`, { key })).status, 200);
      assert.equal((await h.call("GET", `${A}/users`, { key })).status, 403);
    });

    test("a preset holding users.update, permissionPresets.update and key creation cannot raise its holder above its own actions", async () => {
      const managed = ["users.get", "users.update", "permissionPresets.update", "apiKeys.createForServiceAccount"];
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=manager`, { body: { actions: managed } })).status, 200);
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=getter`, { body: { actions: ["users.get"] } })).status, 200);
      const { key } = await serviceAccountWithKey(h, "climber", "user");
      assert.equal((await h.call("PATCH", `${A}/users/climber`, { body: { permissionPreset: "manager" } })).status, 200);
      await serviceAccountWithKey(h, "root-bot", "admin");

      const selfAdmin = await h.call("PATCH", `${A}/users/climber`, { key, body: { role: "admin" } });
      assert.equal(selfAdmin.status, 403, JSON.stringify(selfAdmin.body));
      assert.match(selfAdmin.body.error.message, /cannot give role "admin": it does not hold .*users\.delete/);
      const widened = await h.call("PATCH", `${A}/permissionPresets/manager`, { key, body: { actions: [...managed, "users.delete"] } });
      assert.equal(widened.status, 403, JSON.stringify(widened.body));
      assert.match(widened.body.error.message, /does not hold users\.delete/);
      const adminKey = await h.call("POST", `${A}/users/root-bot/apiKeys`, { key, body: { apiKey: {} } });
      assert.equal(adminKey.status, 403, JSON.stringify(adminKey.body));
      assert.equal((await h.call("GET", `${A}/users/climber`)).body.role, "custom");
      assert.deepEqual((await h.call("GET", `${A}/permissionPresets/manager`)).body.actions, [...managed].sort());

      // Nor does it act on a principal above it: demoting the admin service account is refused.
      const demoted = await h.call("PATCH", `${A}/users/root-bot`, { key, body: { permissionPreset: "getter" } });
      assert.equal(demoted.status, 403, JSON.stringify(demoted.body));
      assert.match(demoted.body.error.message, /cannot change the role of, or delete, a principal with role "admin"/);
      assert.equal((await h.call("GET", `${A}/users/root-bot`)).body.role, "admin");
      assert.equal((await h.call("DELETE", `${A}/users/root-bot`)).status, 200, "the bootstrap admin removes it; later tests count one admin");

      // Within its own actions it still manages: a principal holding no more than it gets a preset it holds all of.
      await serviceAccountWithKey(h, "reader-bot", "user");
      assert.equal((await h.call("PATCH", `${A}/users/reader-bot`, { body: { permissionPreset: "getter" } })).status, 200);
      const raised = await h.call("PATCH", `${A}/users/reader-bot`, { key, body: { permissionPreset: "manager" } });
      assert.equal(raised.status, 200, JSON.stringify(raised.body));
    });

    test("reproduction: an editor of presets cannot strip a more powerful holder of its actions, nor narrow a service account's preset to mint it a key", async () => {
      const ops = ["users.list", "users.get", "users.create", "users.update", "users.delete", "models.list", "models.create", "apiKeys.create", "apiKeys.list"];
      const presetsMade = {
        ops: [...ops, "permissionPresets.update", "permissionPresets.get"],
        helper: ["permissionPresets.update", "permissionPresets.get", "models.list"],
        buildp: ["datasets.create", "datasets.manageOwn", "datasets.list", "datasets.get", "users.list"],
        mallp: ["permissionPresets.update", "apiKeys.createForServiceAccount", "datasets.manageOwn", "datasets.get"],
      };
      for (const [id, actions] of Object.entries(presetsMade)) {
        const made = await h.call("POST", `${A}/permissionPresets?permissionPresetId=${id}`, { body: { actions } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
      }
      const holder = async (userId: string, preset: string) => {
        const { key } = await serviceAccountWithKey(h, userId, "user");
        assert.equal((await h.call("PATCH", `${A}/users/${userId}`, { body: { permissionPreset: preset } })).status, 200);
        return key;
      };
      const bob = await holder("bob", "ops");
      const mallory = await holder("mallory", "helper");
      const builder = await holder("builder", "buildp");
      const mallory2 = await holder("mallory2", "mallp");

      // Demotion: mallory may not change bob's role, nor empty bob's preset instead.
      assert.equal((await h.call("PATCH", `${A}/users/bob`, { key: mallory, body: { permissionPreset: "helper" } })).status, 403);
      const stripped = await h.call("PATCH", `${A}/permissionPresets/ops`, { key: mallory, body: { actions: ["models.list"] } });
      assert.equal(stripped.status, 403, JSON.stringify(stripped.body));
      assert.match(stripped.body.error.message, /cannot change permission preset "ops": it does not hold .*users\.list/);
      assert.equal((await h.call("GET", `${A}/users`, { key: bob })).status, 200, "bob keeps his actions");

      // Takeover: narrowing builder's preset to within mallory2's own, then minting builder a key.
      const made = await h.call("POST", `${A}/datasets?datasetId=builder-data`, { key: builder, body: {} });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal((await h.call("DELETE", `${A}/datasets/builder-data`, { key: mallory2 })).status, 403);
      assert.equal((await h.call("POST", `${A}/users/builder/apiKeys`, { key: mallory2, body: {} })).status, 403);
      const narrowed = await h.call("PATCH", `${A}/permissionPresets/buildp`, { key: mallory2, body: { actions: ["datasets.manageOwn", "datasets.get"] } });
      assert.equal(narrowed.status, 403, JSON.stringify(narrowed.body));
      assert.match(narrowed.body.error.message, /does not hold datasets\.create, datasets\.list, users\.list/);
      assert.equal((await h.call("POST", `${A}/users/builder/apiKeys`, { key: mallory2, body: {} })).status, 403);
      assert.deepEqual((await h.call("GET", `${A}/permissionPresets/buildp`)).body.actions, [...presetsMade.buildp].sort());
      assert.equal((await h.call("GET", `${A}/datasets/builder-data`)).status, 200, "the dataset stays");

      // A preset it holds all of, it may still edit; a rename needs no more than permissionPresets.update.
      assert.equal(
        (await h.call("PATCH", `${A}/permissionPresets/helper`, { key: mallory, body: { actions: ["permissionPresets.update", "permissionPresets.get"] } }))
          .status,
        200,
      );
      assert.equal(
        (await h.call("PATCH", `${A}/permissionPresets/ops?updateMask=displayName`, { key: mallory, body: { displayName: "Operations" } })).status,
        200,
      );
      const refusals = await auditEntries(h, `method="UpdatePermissionPreset"`);
      assert.ok(refusals.filter((e: any) => e.status.code === "PERMISSION_DENIED").length >= 2, "the refusals are audited");
      for (const id of ["bob", "mallory", "builder", "mallory2"]) assert.equal((await h.call("DELETE", `${A}/users/${id}`)).status, 200);
      await h.call("DELETE", `${A}/datasets/builder-data`);
      for (const id of Object.keys(presetsMade)) assert.equal((await h.call("DELETE", `${A}/permissionPresets/${id}`)).status, 200);
    });

    test("a human user gets role custom with an existing preset; custom without one, or a preset with a built-in role, is refused", async () => {
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=human-set`, { body: { actions: ["models.list"] } })).status, 200);
      const res = await h.call("POST", `${A}/users`, { body: { email: "carol@example.com", role: "custom", permissionPreset: "human-set" } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.permissionPreset, "human-set");
      const noPreset = await h.call("POST", `${A}/users`, { body: { email: "dave@example.com", role: "custom" } });
      assert.equal(noPreset.status, 400);
      assert.match(noPreset.body.error.message, /role "custom" needs a permissionPreset/);
      const missing = await h.call("POST", `${A}/users`, { body: { email: "erin@example.com", role: "custom", permissionPreset: "nope" } });
      assert.equal(missing.status, 400);
      assert.match(missing.body.error.message, /permissionPreset "nope" not found/);
      const mixed = await h.call("POST", `${A}/users`, { body: { email: "fay@example.com", role: "user", permissionPreset: "human-set" } });
      assert.equal(mixed.status, 400);
      assert.match(mixed.body.error.message, /permissionPreset goes only with role "custom"/);
    });

    test("regression: a preset named by its full resource name is given, over HTTP and by firectl; another account's preset name is refused as such", async () => {
      const P2 = "accounts/my-account/permissionPresets/p2";
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=p2`, { body: { actions: ["models.list"] } })).status, 200);
      const sa2 = await h.call("POST", `${A}/users?userId=sa2`, { body: { serviceAccount: true, role: "custom", permissionPreset: P2 } });
      assert.equal(sa2.status, 200, JSON.stringify(sa2.body));
      assert.deepEqual([sa2.body.role, sa2.body.permissionPreset], ["custom", "p2"]);
      const shell = firectlShell(() => ({ baseUrl: h.baseUrl, key: h.adminKey }));
      try {
        await h.listen();
        const sa3 = ok(await shell.run(`firectl user create --user-id sa3 --service-account --permission-preset ${P2}`));
        assert.deepEqual([field(sa3, "Role"), field(sa3, "Permission Preset")], ["custom", "p2"]);
        const moved = ok(await shell.run(`firectl user update sa3 --permission-preset ${P2}`));
        assert.equal(field(moved, "Permission Preset"), "p2");
      } finally {
        shell.close();
      }
      const patched = await h.call("PATCH", `${A}/users/sa2`, { body: { permissionPreset: P2 } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.permissionPreset, "p2");

      await otherAccount(h, "preset-elsewhere");
      const refusals: Array<[string, RegExp]> = [
        [
          "accounts/preset-elsewhere/permissionPresets/p2",
          /^invalid permissionPreset "accounts\/preset-elsewhere\/permissionPresets\/p2": it is another account's permissionPreset; expected an id or a name like accounts\/my-account\/permissionPresets\/ID$/,
        ],
        ["accounts/my-account/permissionPresets/nope", /^permissionPreset "nope" not found: create it first$/],
        ["accounts/my-account/models/p2", /^invalid permissionPreset "accounts\/my-account\/models\/p2": expected an id or a name like/],
      ];
      for (const [preset, message] of refusals) {
        const res = await h.call("POST", `${A}/users?userId=sa4`, { body: { serviceAccount: true, role: "custom", permissionPreset: preset } });
        assert.equal(res.status, 400, preset);
        assert.match(res.body.error.message, message, preset);
      }
      assert.equal((await h.call("GET", `${A}/users/sa4`)).status, 404, "nothing is created");
    });

    test("a signed-in human with role custom is checked against the preset, which an edit changes at once", async () => {
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=browse`, { body: { actions: ["models.list"] } })).status, 200);
      assert.equal((await h.call("POST", `${A}/users`, { body: { email: "gil@example.com", permissionPreset: "browse" } })).status, 200);
      const link = await createSigninLink(h.deps, "my-account", "gil@example.com");
      const redeemed = await h.call("GET", new URL(link.url).pathname, { key: null });
      assert.equal(redeemed.status, 302);
      const cookie = ([] as unknown[])
        .concat(redeemed.headers["set-cookie"])
        .map(String)
        .find((c) => c.startsWith("hearth_session="))!
        .split(";")[0]!;
      const session = { key: null, headers: { cookie } };
      assert.equal((await h.call("GET", `${A}/models`, session)).status, 200);
      assert.equal((await h.call("GET", `${A}/users`, session)).status, 403);
      assert.equal((await h.call("PATCH", `${A}/permissionPresets/browse`, { body: { actions: ["users.list"] } })).status, 200);
      assert.equal((await h.call("GET", `${A}/users`, session)).status, 200);
      assert.equal((await h.call("GET", `${A}/models`, session)).status, 403);
      // The console shows what the session reports the principal holds: the preset's actions.
      const who = await h.call("GET", "/auth/session", session);
      assert.equal(who.body.role, "custom");
      assert.deepEqual(who.body.actions, ["users.list"]);
      assert.ok((await h.call("GET", "/auth/session")).body.actions.includes("users.delete"), "an admin holds every action");
    });

    test("deleting a preset in use is refused naming how many principals hold it; unused, it goes", async () => {
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=shared`, { body: { actions: ["models.list"] } })).status, 200);
      await serviceAccountWithKey(h, "holder-a", "user");
      await serviceAccountWithKey(h, "holder-b", "user");
      for (const id of ["holder-a", "holder-b"]) {
        assert.equal((await h.call("PATCH", `${A}/users/${id}`, { body: { permissionPreset: "shared" } })).status, 200);
      }
      const refused = await h.call("DELETE", `${A}/permissionPresets/shared`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.status, "FAILED_PRECONDITION");
      assert.match(refused.body.error.message, /permission preset "shared" is in use: 2 principals hold it/);
      assert.equal((await h.call("PATCH", `${A}/users/holder-a`, { body: { role: "user" } })).body.permissionPreset, "");
      assert.match((await h.call("DELETE", `${A}/permissionPresets/shared`)).body.error.message, /1 principal holds it/);
      assert.equal((await h.call("DELETE", `${A}/users/holder-b`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/permissionPresets/shared`)).status, 200);
      assert.equal((await h.call("GET", `${A}/permissionPresets/shared`)).status, 404);
    });

    test("only admins manage presets; a custom role holding every action is still not an admin for the last-admin rule", async () => {
      const { key } = await serviceAccountWithKey(h, "plain", "user");
      const refused = await h.call("POST", `${A}/permissionPresets?permissionPresetId=mine`, { key, body: { actions: ["models.list"] } });
      assert.equal(refused.status, 403);
      // Admin-only actions may go into a preset: never more than admin's, but up to it.
      const everything = await h.call("POST", `${A}/permissionPresets?permissionPresetId=almighty`, {
        body: { actions: ["users.update", "users.list", "permissionPresets.update", "auditLogs.listAll"] },
      });
      assert.equal(everything.status, 200, JSON.stringify(everything.body));
      const bootstrap = (await h.call("GET", `${A}/users?filter=${encodeURIComponent('role="admin"')}`)).body.users;
      assert.equal(bootstrap.length, 1);
      const adminId = bootstrap[0].name.split("/").pop();
      await serviceAccountWithKey(h, "deputy", "user");
      assert.equal((await h.call("PATCH", `${A}/users/deputy`, { body: { permissionPreset: "almighty" } })).status, 200);
      const demoted = await h.call("PATCH", `${A}/users/${adminId}`, { body: { role: "custom", permissionPreset: "almighty" } });
      assert.equal(demoted.status, 400);
      assert.equal(demoted.body.error.status, "FAILED_PRECONDITION");
      assert.match(demoted.body.error.message, /last admin who can act/);
    });

    test("preset changes and refusals are audited", async () => {
      const created = await auditEntries(h, 'method="CreatePermissionPreset"');
      assert.ok(created.some((e) => e.resource === "accounts/my-account/permissionPresets/reader" && e.isAdminAction === true));
      assert.ok(created.some((e) => e.resource === "accounts/my-account/permissionPresets/bad" && e.status.code === "INVALID_ARGUMENT"));
      assert.ok(created.some((e) => e.resource === "accounts/my-account/permissionPresets/mine" && e.status.code === "PERMISSION_DENIED"));
      const updated = await auditEntries(h, 'method="UpdatePermissionPreset"');
      assert.ok(updated.some((e) => e.resource === "accounts/my-account/permissionPresets/swing"));
      const deleted = await auditEntries(h, 'method="DeletePermissionPreset"');
      assert.ok(deleted.some((e) => e.status.code === "FAILED_PRECONDITION" && /is in use: 2 principals hold it/.test(e.status.message)));
      assert.ok(deleted.some((e) => e.status.code === "OK" && e.resource === "accounts/my-account/permissionPresets/shared"));
    });
  });
}

if (DIALECTS.includes("postgres")) {
  describe("a preset edit on one process applies on another sharing PostgreSQL", () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    const procs: Served[] = [];
    let admin = "";
    const accountId = `presets-${randomBytes(4).toString("hex")}`;
    const A = `/v1/accounts/${accountId}`;
    before(async () => {
      db = await freshDatabase("postgres");
      // A key cache that would keep the old answer for minutes: only the invalidation can refresh it.
      const env = { ...db.env, HEARTH_ACCOUNT_ID: accountId, HEARTH_LOG_LEVEL: "warn", HEARTH_KEY_CACHE_TTL_MS: "600000" };
      procs.push(await serve(env));
      procs.push(await serve(env));
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await db.drop();
    });

    test("the holder's next request on process 2 after an edit through process 1 uses the new actions", async () => {
      const [p1, p2] = procs.map((p) => p.baseUrl) as [string, string];
      assert.equal((await callJson(p1, admin, "POST", `${A}/permissionPresets?permissionPresetId=roam`, { actions: ["users.list"] })).status, 200);
      assert.equal((await callJson(p1, admin, "POST", `${A}/users?userId=roamer`, { serviceAccount: true, permissionPreset: "roam" })).status, 200);
      const { body } = await callJson(p1, admin, "POST", `${A}/users/roamer/apiKeys`, { apiKey: {} });
      assert.equal((await callJson(p2, body.key, "GET", `${A}/users`)).status, 200, "cached on process 2");
      assert.equal((await callJson(p2, body.key, "GET", `${A}/models`)).status, 403);
      assert.equal((await callJson(p1, admin, "PATCH", `${A}/permissionPresets/roam`, { actions: ["models.list"] })).status, 200);
      const edited = Date.now();
      let appliedAfter = -1;
      while (Date.now() - edited < 5000) {
        if ((await callJson(p2, body.key, "GET", `${A}/models`)).status === 200) {
          appliedAfter = Date.now() - edited;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(appliedAfter >= 0 && appliedAfter <= 1000, `process 2 applied the edit after ${appliedAfter} ms`);
      assert.equal((await callJson(p2, body.key, "GET", `${A}/users`)).status, 403);
    });
  });
}
