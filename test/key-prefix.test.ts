import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKey } from "../src/domain/api-key-format.ts";
import { DIALECTS } from "./support/hearth.ts";
import { mistyped } from "./support/fixtures.ts";
import { hearth, processHearth, type ProcessHearth } from "./support/process.ts";

/**
 * Issue 15: HEARTH_KEY_PREFIX names new keys only. Restarted with another prefix, every key Hearth
 * issued before (the admin's included) keeps working, and so do the new ones after a change back.
 */
const KEYS = "/v1/accounts/my-account/users/admin-example-com/apiKeys";

for (const dialect of DIALECTS) {
  describe(`changing HEARTH_KEY_PREFIX keeps every issued key working (${dialect})`, () => {
    let p: ProcessHearth;
    const call = (method: string, path: string, key: string, body?: unknown) => p.call(method, path, key, body);
    const verify = async (key: string) => (await call("GET", "/verifyApiKey", key)).status;

    before(async () => {
      p = await processHearth(dialect);
    });
    after(() => p.close());

    test("regression: restarted with HEARTH_KEY_PREFIX=fw_, the hk_ admin key still works; new keys start fw_; both work, also after a change back", async () => {
      let server = await p.serve();
      const admin = p.adminKey();
      assert.match(admin, /^hk_[0-9A-Za-z]{28}$/);
      assert.equal(await server.stop(), 0);

      server = await p.serve({ HEARTH_KEY_PREFIX: "fw_" });
      const users = await call("GET", "/v1/accounts/my-account/users", admin);
      assert.equal(users.status, 200, JSON.stringify(users.body));
      const created = await call("POST", KEYS, admin, { apiKey: { displayName: "after the change" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const fw = created.body.key as string;
      assert.match(fw, /^fw_[0-9A-Za-z]{28}$/);
      assert.ok(created.body.prefix.startsWith("fw_"));
      assert.equal(await verify(fw), 200);
      assert.equal(await verify(admin), 200);
      const listed = await call("GET", KEYS, fw);
      assert.deepEqual(listed.body.apiKeys.map((k: any) => k.prefix.slice(0, 3)).sort(), ["fw_", "hk_"]);
      // A mistyped key of either prefix is told apart from an ID token: it fails its checksum.
      for (const key of [admin, fw]) {
        const typo = mistyped(key);
        const refused = await call("GET", "/v1/accounts/my-account/users", typo);
        assert.equal(refused.status, 401);
        assert.match(refused.body.error.message, /API key is malformed/);
      }
      // A well-formed key of a prefix never configured is looked up, and unknown.
      const unknown = await call("GET", "/v1/accounts/my-account/users", generateKey("zz_").key);
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error.message, "the API key is not valid");
      assert.equal(await server.stop(), 0);

      // The operator's commands follow the setting too.
      const acme = await hearth(["account", "create", "acme", "--admin-email", "ops@acme.example"], { ...p.env, HEARTH_KEY_PREFIX: "acme2_" });
      assert.equal(acme.code, 0, acme.stderr);
      const acmeKey = /\n\s+(acme2_\S+)/.exec(acme.stdout)?.[1];
      assert.ok(acmeKey, acme.stdout);

      await p.serve();
      assert.equal(await verify(admin), 200);
      assert.equal(await verify(fw), 200, "a fw_ key keeps working after the change back to hk_");
      assert.equal(await verify(acmeKey), 200);
    });
  });
}
