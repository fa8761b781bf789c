import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * Fireworks' shapes for accounts, quotas and audit entries over real HTTP: ListAccounts (the SDK's
 * `accounts.list`), the Account enums, ListQuotas paging and filter, UpdateQuota `allowMissing`
 * (AIP-134) and audit entries' `status` in the form of every resource's.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`Fireworks account, quota and audit shapes (${dialect})`, () => {
    let h: TestHearth;
    let otherKey = "";
    before(async () => {
      h = await startHearth(dialect);
      otherKey = await otherAccount(h);
    });
    after(() => h.stop());

    test("GET /v1/accounts lists exactly the credential's own account, with Fireworks' account fields", async () => {
      const mine = await h.call("GET", "/v1/accounts");
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.deepEqual(
        mine.body.accounts.map((a: any) => a.name),
        ["accounts/my-account"],
      );
      assert.equal(mine.body.nextPageToken, "");
      assert.equal(mine.body.totalSize, 1);
      const [account] = mine.body.accounts;
      assert.equal(account.accountType, "ACCOUNT_TYPE_UNSPECIFIED");
      assert.equal(account.suspendState, "UNSUSPENDED");
      assert.deepEqual(account.status, { code: "OK", message: "" });
      assert.deepEqual(account, (await h.call("GET", A)).body, "the list's item is the account as GetAccount returns it");

      const theirs = await h.call("GET", "/v1/accounts", { key: otherKey });
      assert.deepEqual(
        theirs.body.accounts.map((a: any) => a.name),
        ["accounts/other-account"],
      );
      const { key: botKey } = await serviceAccountWithKey(h, "acct-reader", "inference-user");
      assert.deepEqual(
        (await h.call("GET", "/v1/accounts", { key: botKey })).body.accounts.map((a: any) => a.name),
        ["accounts/my-account"],
        "any role sees its own account",
      );
      assert.equal((await h.call("GET", "/v1/accounts", { key: null })).status, 401);
    });

    test("ListAccounts takes a filter, readMask and pageSize; bad ones are 400", async () => {
      const matched = await h.call("GET", `/v1/accounts?filter=${encodeURIComponent('state="READY"')}`);
      assert.equal(matched.body.accounts.length, 1);
      const none = await h.call("GET", `/v1/accounts?filter=${encodeURIComponent('name="other-account"')}`);
      assert.deepEqual([none.status, none.body.accounts, none.body.totalSize], [200, [], 0], "another account is never listed");
      const masked = await h.call("GET", "/v1/accounts?readMask=display_name,suspendState");
      assert.deepEqual(Object.keys(masked.body.accounts[0]).sort(), ["displayName", "name", "suspendState"]);
      const get = await h.call("GET", `${A}?readMask=accountType`);
      assert.deepEqual(get.body, { name: "accounts/my-account", accountType: "ACCOUNT_TYPE_UNSPECIFIED" });
      const badFilter = await h.call("GET", `/v1/accounts?filter=${encodeURIComponent("colour=1")}`);
      assert.equal(badFilter.status, 400);
      assert.match(badFilter.body.error.message, /colour/);
      assert.equal((await h.call("GET", "/v1/accounts?pageSize=-1")).status, 400);
    });

    test("ListQuotas pages with pageSize and pageToken and filters by name", async () => {
      const all = (await h.call("GET", `${A}/quotas`)).body;
      assert.equal(all.nextPageToken, "");
      const names: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await h.call("GET", `${A}/quotas?pageSize=3${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.quotas.length <= 3);
        assert.equal(page.body.totalSize, all.quotas.length);
        names.push(...page.body.quotas.map((q: any) => q.name));
        token = page.body.nextPageToken;
        pages++;
      } while (token);
      assert.equal(pages, Math.ceil(all.quotas.length / 3));
      assert.deepEqual(
        names,
        all.quotas.map((q: any) => q.name),
      );
      const one = await h.call("GET", `${A}/quotas?filter=${encodeURIComponent('name="service-accounts"')}`);
      assert.deepEqual(
        one.body.quotas.map((q: any) => q.name),
        ["accounts/my-account/quotas/service-accounts"],
      );
      assert.equal(one.body.totalSize, 1);
      const bad = await h.call("GET", `${A}/quotas?filter=${encodeURIComponent("usage>1")}`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /usage/);
    });

    test("UpdateQuota with allowMissing=true creates a quota the account has no value for; without it that is NOT_FOUND", async () => {
      await h.deps.store.db.deleteFrom("quotas").where("account_id", "=", "my-account").where("id", "=", "datasets").execute();
      const missing = await h.call("PATCH", `${A}/quotas/datasets`, { body: { value: 7 } });
      assert.equal(missing.status, 404);
      const created = await h.call("PATCH", `${A}/quotas/datasets?allowMissing=true`, { body: { value: 7 } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.value, "7");
      assert.equal((await h.call("GET", `${A}/quotas/datasets`)).body.value, "7");
      const updated = await h.call("PATCH", `${A}/quotas/datasets?allowMissing=true`, { body: { value: 8 } });
      assert.equal(updated.body.value, "8", "an existing quota is updated as usual");
      assert.equal((await h.call("PATCH", `${A}/quotas/no-such-quota?allowMissing=true`, { body: { value: 1 } })).status, 404);
      const notBool = await h.call("PATCH", `${A}/quotas/datasets?allowMissing=yes`, { body: { value: 1 } });
      assert.equal(notBool.status, 400);
      assert.match(notBool.body.error.message, /allowMissing/);
    });

    test("audit entries' status has the same form as a resource's: the google.rpc code name", async () => {
      const { key } = await serviceAccountWithKey(h, "audit-shape", "user");
      assert.equal((await h.call("POST", `${A}/users?userId=nope`, { key, body: { serviceAccount: true } })).status, 403);
      const [refused] = await auditEntries(h, 'message="CreateUser" AND resource="accounts/my-account/users/nope"');
      assert.equal(refused.status.code, "PERMISSION_DENIED");
      assert.match(refused.status.message, /^PERMISSION_DENIED: /);
      const [created] = await auditEntries(h, 'message="CreateUser" AND resource="accounts/my-account/users/audit-shape"');
      assert.deepEqual(created.status, { code: "OK", message: "" });
      const user = (await h.call("GET", `${A}/users/audit-shape`)).body;
      assert.deepEqual(Object.keys(created.status), Object.keys(user.status));
      assert.equal(typeof created.status.code, typeof user.status.code);
    });
  });
}
