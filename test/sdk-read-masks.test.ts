import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * Regression: two reads took no `readMask` although Fireworks' SDK sends one to them
 * (fw-ai-external/python-sdk, fireworks_ai `AccountListAuditLogsParams.read_mask` and
 * `IdentityProviderRetrieveParams.read_mask`): `accounts.list_audit_logs(read_mask=…)` and
 * `accounts.identity_providers.retrieve(…, read_mask=…)` were a 400 "unknown query parameter".
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`readMask where Fireworks' SDK sends it (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("ListAuditLogs keeps the masked fields and name; * or empty keeps every field; an unknown one is a 400 naming the fields", async () => {
      await h.call("POST", `${A}/users?userId=masked-bot`, { body: { serviceAccount: true, role: "user" } });
      const filter = encodeURIComponent('message="CreateUser" AND resource="accounts/my-account/users/masked-bot"');
      const full = await h.call("GET", `${A}/auditLogs?filter=${filter}`);
      assert.equal(full.status, 200, JSON.stringify(full.body));
      assert.equal(full.body.auditLogs.length, 1);
      const masked = await h.call("GET", `${A}/auditLogs?filter=${filter}&readMask=timestamp,is_admin_action,principal`);
      assert.equal(masked.status, 200, JSON.stringify(masked.body));
      const [entry] = full.body.auditLogs;
      assert.deepEqual(masked.body.auditLogs, [{ name: entry.name, timestamp: entry.timestamp, isAdminAction: true, principal: entry.principal }]);
      assert.equal(masked.body.totalSize, 1);
      for (const all of ["*", ""]) {
        const res = await h.call("GET", `${A}/auditLogs?filter=${filter}&readMask=${encodeURIComponent(all)}`);
        assert.deepEqual(res.body.auditLogs, full.body.auditLogs, `readMask=${JSON.stringify(all)}`);
      }
      const bad = await h.call("GET", `${A}/auditLogs?readMask=secret`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /"readMask": unknown field "secret" \(fields: name, id, timestamp, /);
    });

    test("GetIdentityProvider keeps the masked fields and name, as ListIdentityProviders does", async () => {
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=okta`, {
        body: { displayName: "Okta", oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1" } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const masked = await h.call("GET", `${A}/identityProviders/okta?readMask=display_name,oidcConfig`);
      assert.equal(masked.status, 200, JSON.stringify(masked.body));
      assert.deepEqual(masked.body, {
        name: "accounts/my-account/identityProviders/okta",
        displayName: "Okta",
        oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1" },
      });
      assert.deepEqual((await h.call("GET", `${A}/identityProviders/okta?readMask=*`)).body, created.body);
      const bad = await h.call("GET", `${A}/identityProviders/okta?readMask=clientSecret`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /"readMask": unknown field "clientSecret"/);
    });
  });
}
