import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

for (const dialect of DIALECTS) {
  describe(`service accounts over REST (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("the whole story: create, key, verify, role change, filtered list, delete revokes the key", async () => {
      const created = await h.call("POST", "/v1/accounts/my-account/users?userId=my-service-account", { body: { serviceAccount: true } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.role, "user");
      assert.equal(created.body.serviceAccount, true);
      assert.equal(created.body.email, "my-service-account@my-account.sa.hearth.local");
      assert.equal(created.body.name, "accounts/my-account/users/my-service-account");

      const key = await h.call("POST", "/v1/accounts/my-account/users/my-service-account/apiKeys", { body: { apiKey: { displayName: "ci" } } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.match(key.body.key, /^hk_[0-9A-Za-z]{28}$/);
      assert.equal(key.body.email, "my-service-account@my-account.sa.hearth.local");
      assert.equal(key.body.secure, true);

      const verify = await h.call("GET", "/verifyApiKey", { key: key.body.key });
      assert.equal(verify.status, 200);
      assert.equal(verify.headers["x-fireworks-account-id"], "my-account");
      assert.equal(verify.headers["x-hearth-role"], "user");

      const updated = await h.call("PATCH", "/v1/accounts/my-account/users/my-service-account", { body: { role: "inference-user" } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.role, "inference-user");
      const verify2 = await h.call("GET", "/verifyApiKey", { key: key.body.key });
      assert.equal(verify2.headers["x-hearth-role"], "inference-user");

      const list = await h.call("GET", "/v1/accounts/my-account/users?filter=service_account%3Dtrue");
      assert.equal(list.status, 200);
      assert.equal(list.body.totalSize, 1);
      assert.deepEqual(
        list.body.users.map((u: { name: string }) => u.name),
        ["accounts/my-account/users/my-service-account"],
      );

      const deleted = await h.call("DELETE", "/v1/accounts/my-account/users/my-service-account");
      assert.equal(deleted.status, 200);
      const refused = await h.call("GET", "/verifyApiKey", { key: key.body.key });
      assert.equal(refused.status, 401);
      assert.match(String(refused.headers["www-authenticate"]), /^Bearer/);
    });
  });
}
