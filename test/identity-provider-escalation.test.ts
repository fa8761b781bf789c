import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";

/**
 * Who an identity provider signs in is an admin's choice (docs/roles.md, the escalation rule): a
 * provider signs in as any human its tenant domains admit, admins included, and creates new ones
 * with its `jitDefaultRole`. A custom role holding only the `identityProviders.*` actions once made
 * itself an admin two ways: `PATCH {"jitDefaultRole": "admin", "enableJitUserProvisioning": true}`
 * and signing in a new email of the domain, or re-pointing `oidcConfig` at an issuer it controls
 * (which also dropped the real admin's binding) and signing in as that admin; creating a second
 * provider for the same domain did the same. Removing a principal's bindings, or ending its
 * sessions, is acting on it: refused, as changing its role is, on a principal holding more.
 */
for (const dialect of DIALECTS) {
  describe(`identity providers and the escalation rule (${dialect})`, () => {
    let h: TestHearth;
    let idpManager: string;
    let scopedAdminKey: string;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      const preset = await h.call("POST", `${A}/permissionPresets?permissionPresetId=idp-manager`, {
        body: {
          actions: [
            ...["identityProviders.list", "identityProviders.get", "identityProviders.create", "identityProviders.update", "identityProviders.delete"],
            ...["users.unbindIdentity", "users.revokeSessions"],
          ],
        },
      });
      assert.equal(preset.status, 200, JSON.stringify(preset.body));
      idpManager = (await serviceAccountWithKey(h, "idp-bot", "user")).key;
      assert.equal((await h.call("PATCH", `${A}/users/idp-bot`, { body: { permissionPreset: "idp-manager" } })).status, 200);
      const scoped = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: { scopes: ["identityProviders.update"] } } });
      assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
      scopedAdminKey = scoped.body.key;
      const corp = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: { oidcConfig: { issuerUrl: "https://corp.example/oidc", clientId: "hearth" }, tenantDomains: ["corp.example"] },
      });
      assert.equal(corp.status, 200, JSON.stringify(corp.body));
    });
    after(() => h.stop());

    test("a custom role holding identityProviders.create cannot add a provider; the refusal is audited", async () => {
      const made = await h.call("POST", `${A}/identityProviders?identityProviderId=corp2`, {
        key: idpManager,
        body: { oidcConfig: { issuerUrl: "https://evil.example", clientId: "evil" }, tenantDomains: ["corp.example"] },
      });
      assert.equal(made.status, 403, JSON.stringify(made.body));
      assert.match(
        made.body.error.message,
        /role "custom" \(permission preset "idp-manager"\) cannot set who identity provider "corp2" signs in: .*admins included/,
      );
      assert.equal((await h.call("GET", `${A}/identityProviders/corp2`)).status, 404);
      const [entry] = await auditEntries(h, 'method="CreateIdentityProvider" AND resource:"corp2"');
      assert.equal(entry.status.code, "PERMISSION_DENIED");
      assert.equal(entry.principal, "idp-bot@my-account.sa.hearth.local");
    });

    const admissionEdits: Array<[string, Record<string, unknown>]> = [
      ["jitDefaultRole", { jitDefaultRole: "admin", enableJitUserProvisioning: true }],
      ["enableJitUserProvisioning", { enableJitUserProvisioning: true }],
      ["oidcConfig.issuerUrl", { oidcConfig: { issuerUrl: "https://evil.example", clientId: "evil" } }],
      ["oidcConfig.clientId", { oidcConfig: { clientId: "another-client" } }],
      ["tenantDomains", { tenantDomains: ["corp.example", "other.example"] }],
      ["trustEmailWithoutVerifiedClaim", { trustEmailWithoutVerifiedClaim: true }],
    ];
    for (const [field, body] of admissionEdits) {
      test(`a custom role holding identityProviders.update cannot change ${field}; nothing stored changes`, async () => {
        const before = await h.call("GET", `${A}/identityProviders/corp`);
        const res = await h.call("PATCH", `${A}/identityProviders/corp`, { key: idpManager, body });
        assert.equal(res.status, 403, JSON.stringify(res.body));
        assert.match(res.body.error.message, /cannot set who identity provider "corp" signs in/);
        assert.deepEqual((await h.call("GET", `${A}/identityProviders/corp`)).body, before.body);
      });
    }

    test("an admin's key whose scopes hold only identityProviders.update cannot either", async () => {
      const res = await h.call("PATCH", `${A}/identityProviders/corp`, { key: scopedAdminKey, body: { jitDefaultRole: "admin" } });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.match(res.body.error.message, /^this API key cannot set who identity provider "corp" signs in: .*its scopes do not hold every action/);
    });

    test("an admin's unscoped key limited to networks, models or spend cannot set up sign-in either: the sessions would shed its limits", async () => {
      for (const restriction of [
        { allowedCidrs: ["127.0.0.0/8", "::1/128"] },
        { rpm: 5 },
        { monthlySpendUsd: 1 },
        { allowedModels: ["accounts/fireworks/models/*"] },
      ]) {
        const made = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: restriction } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const key = made.body.key;
        const field = Object.keys(restriction)[0]!;
        const created = await h.call("POST", `${A}/identityProviders?identityProviderId=shed-${field.toLowerCase()}`, {
          key,
          body: {
            oidcConfig: { issuerUrl: "https://evil.example/oidc", clientId: `shed-${field}` },
            tenantDomains: ["corp.example"],
            enableJitUserProvisioning: true,
          },
        });
        assert.equal(created.status, 403, `${field}: ${JSON.stringify(created.body)}`);
        assert.match(
          created.body.error.message,
          new RegExp(
            `^this API key cannot set who identity provider "shed-${field.toLowerCase()}" signs in: .*, so a session signed in through it would shed the key's ${field}; use an unrestricted key or a console session$`,
          ),
        );
        const repoint = await h.call("PATCH", `${A}/identityProviders/corp`, { key, body: { oidcConfig: { issuerUrl: "https://evil.example/oidc" } } });
        assert.equal(repoint.status, 403, field);
        assert.equal((await h.call("GET", `${A}/identityProviders/shed-${field.toLowerCase()}`)).status, 404, "nothing stored");
        // What does not change who signs in stays open to it.
        assert.equal((await h.call("GET", `${A}/identityProviders/corp`, { key })).status, 200, field);
      }
      const [entry] = await auditEntries(h, 'method="CreateIdentityProvider" AND status:"would shed"');
      assert.ok(entry, "the refusal is audited");
    });

    test("it may still rename the provider, also sending back the whole provider it read", async () => {
      const read = await h.call("GET", `${A}/identityProviders/corp`, { key: idpManager });
      const renamed = await h.call("PATCH", `${A}/identityProviders/corp`, { key: idpManager, body: { ...read.body, displayName: "Corp SSO" } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.displayName, "Corp SSO");
      assert.deepEqual(renamed.body.tenantDomains, ["corp.example"]);
    });

    test("nor does it unbind or sign out a principal holding actions it does not; one holding no more, it may", async () => {
      const unbind = await h.call("POST", `${A}/users/admin-example-com:unbindIdentity`, { key: idpManager, body: {} });
      assert.equal(unbind.status, 403, JSON.stringify(unbind.body));
      assert.match(unbind.body.error.message, /cannot remove the identity bindings of a principal with role "admin"/);
      const revoke = await h.call("POST", `${A}/users/admin-example-com:revokeSessions`, { key: idpManager });
      assert.equal(revoke.status, 403, JSON.stringify(revoke.body));
      assert.match(revoke.body.error.message, /cannot revoke the sessions of a principal with role "admin"/);
      const peer = await h.call("POST", `${A}/users`, { body: { email: "peer@corp.example", permissionPreset: "idp-manager" } });
      assert.equal(peer.status, 200, JSON.stringify(peer.body));
      const revokedPeer = await h.call("POST", `${A}/users/peer-corp-example:revokeSessions`, { key: idpManager });
      assert.deepEqual([revokedPeer.status, revokedPeer.body], [200, { revokedSessions: 0 }]);
      assert.equal((await h.call("POST", `${A}/users/peer-corp-example:unbindIdentity`, { key: idpManager, body: {} })).status, 404, "no binding to remove");
    });

    test("nor does it delete a provider, which signs out and unbinds everyone signing in through it", async () => {
      const res = await h.call("DELETE", `${A}/identityProviders/corp`, { key: idpManager });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.match(res.body.error.message, /cannot delete identity provider "corp": it signs out and unbinds everyone/);
      assert.equal((await h.call("GET", `${A}/identityProviders/corp`)).status, 200);
    });

    test("an admin changes who it signs in", async () => {
      const res = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { enableJitUserProvisioning: true, jitDefaultRole: "contributor" } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.jitDefaultRole, "contributor");
    });
  });
}
