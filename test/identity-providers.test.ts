import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../src/config.ts";
import { clientSecretOf } from "../src/service/identity-providers.ts";
import { serverKey } from "../src/service/server-key.ts";
import { startSession } from "../src/service/sessions.ts";
import { auditEntries, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";
const SECRET = "idp-client-secret-5e1b0c";

for (const dialect of DIALECTS) {
  describe(`identity providers (${dialect})`, () => {
    let h: TestHearth;
    let userKey: string;
    before(async () => {
      // A loopback issuer (http://127.0.0.1:5556/dex) is registered below: the operator switch allows it.
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      userKey = (await serviceAccountWithKey(h, "plain-user", "user")).key;
    });
    after(() => h.stop());

    test("an admin adds one; defaults apply and the client secret is write-only", async () => {
      const res = await h.call("POST", `${A}/identityProviders?identityProviderId=okta`, {
        body: { displayName: "Okta", oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1", clientSecret: SECRET } },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, {
        name: "accounts/my-account/identityProviders/okta",
        displayName: "Okta",
        oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1" },
        tenantDomains: [],
        enableJitUserProvisioning: false,
        jitDefaultRole: "inference-user",
        enforceSso: false,
        trustEmailWithoutVerifiedClaim: false,
        state: "READY",
        status: { code: "OK", message: "" },
        createTime: res.body.createTime,
        updateTime: res.body.updateTime,
      });
      const got = await h.call("GET", `${A}/identityProviders/okta`);
      assert.deepEqual(got.body, res.body);
      const list = await h.call("GET", `${A}/identityProviders`);
      assert.deepEqual(
        list.body.identityProviders.map((i: any) => i.name),
        ["accounts/my-account/identityProviders/okta"],
      );
      const row = await h.deps.store.db.selectFrom("identity_providers").selectAll().where("id", "=", "okta").executeTakeFirstOrThrow();
      assert.ok(!row.client_secret!.includes(SECRET));
      assert.equal(clientSecretOf(h.deps, row), SECRET, "the sealed secret opens with the server key");
      const [entry] = await auditEntries(h, 'message="CreateIdentityProvider" AND resource:"okta"');
      assert.equal(entry.isAdminAction, true);
      assert.equal(entry.payload.oidcConfig.clientSecret, "[REDACTED]");
    });

    test("without identityProviderId an id is generated", async () => {
      const res = await h.call("POST", `${A}/identityProviders`, { body: { oidcConfig: { issuerUrl: "https://login.example.com", clientId: "c" } } });
      assert.equal(res.status, 200);
      assert.match(res.body.name, /^accounts\/my-account\/identityProviders\/idp-[0-9a-f]{8}$/);
      assert.equal((await h.call("DELETE", `/v1/${res.body.name}`)).status, 200);
    });

    test("invalid providers are refused with a sentence naming the field", async () => {
      const cases: Array<[string, unknown, RegExp]> = [
        ["plain http to a public host", { oidcConfig: { issuerUrl: "http://idp.example.com", clientId: "c" } }, /issuerUrl/],
        ["an issuer with a query", { oidcConfig: { issuerUrl: "https://idp.example.com/?x=1", clientId: "c" } }, /issuerUrl/],
        ["no issuer", { oidcConfig: { clientId: "c" } }, /issuerUrl/],
        ["no client id", { oidcConfig: { issuerUrl: "https://idp.example.com" } }, /clientId is required/],
        ["a bad tenant domain", { oidcConfig: { issuerUrl: "https://idp.example.com", clientId: "c" }, tenantDomains: ["not a domain"] }, /tenant domain/],
        ["an unknown JIT role", { oidcConfig: { issuerUrl: "https://idp.example.com", clientId: "c" }, jitDefaultRole: "superuser" }, /unknown role/],
        [
          "the custom role",
          { oidcConfig: { issuerUrl: "https://idp.example.com", clientId: "c" }, jitDefaultRole: "custom" },
          /is given to a user or service account, not here/,
        ],
        ["a wrongly typed flag", { oidcConfig: { issuerUrl: "https://idp.example.com", clientId: "c" }, enforceSso: "yes" }, /enforceSso/],
      ];
      for (const [what, body, message] of cases) {
        const res = await h.call("POST", `${A}/identityProviders?identityProviderId=bad`, { body });
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, what);
      }
      const loopback = await h.call("POST", `${A}/identityProviders?identityProviderId=dev`, {
        body: { oidcConfig: { issuerUrl: "http://127.0.0.1:5556/dex", clientId: "c" } },
      });
      assert.equal(loopback.status, 200, "plain http is fine on loopback (development)");
      const dup = await h.call("POST", `${A}/identityProviders?identityProviderId=dev`, {
        body: { oidcConfig: { issuerUrl: "https://x.example", clientId: "c" } },
      });
      assert.equal(dup.status, 409);
      assert.equal((await h.call("DELETE", `${A}/identityProviders/dev`)).status, 200);
    });

    test("update changes the fields present, or exactly those in updateMask", async () => {
      const patched = await h.call("PATCH", `${A}/identityProviders/okta`, {
        body: { tenantDomains: ["ACME.example", "acme.co.uk"], enableJitUserProvisioning: true, jitDefaultRole: "contributor" },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.tenantDomains, ["acme.example", "acme.co.uk"]);
      assert.equal(patched.body.jitDefaultRole, "contributor");
      assert.equal(patched.body.displayName, "Okta", "untouched");

      const masked = await h.call("PATCH", `${A}/identityProviders/okta?updateMask=display_name,enforce_sso`, {
        body: { displayName: "Okta SSO", jitDefaultRole: "admin" },
      });
      assert.equal(masked.status, 200, JSON.stringify(masked.body));
      assert.equal(masked.body.displayName, "Okta SSO");
      assert.equal(masked.body.enforceSso, false, "named in the mask, absent from the body: cleared");
      assert.equal(masked.body.jitDefaultRole, "contributor", "not in the mask: unchanged");
      const bad = await h.call("PATCH", `${A}/identityProviders/okta`, { body: { updateMask: "name" } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /cannot be updated/);

      const rotated = await h.call("PATCH", `${A}/identityProviders/okta`, { body: { oidcConfig: { clientSecret: "rotated-secret-77" } } });
      assert.equal(rotated.status, 200);
      assert.equal(JSON.stringify(rotated.body).includes("rotated-secret-77"), false);
      assert.equal(rotated.body.oidcConfig.issuerUrl, "https://acme.okta.com", "a partial oidcConfig keeps the rest");
      const row = await h.deps.store.db.selectFrom("identity_providers").selectAll().where("id", "=", "okta").executeTakeFirstOrThrow();
      assert.equal(clientSecretOf(h.deps, row), "rotated-secret-77");
      assert.equal((await h.call("PATCH", `${A}/identityProviders/nope`, { body: {} })).status, 404);
    });

    test("every principal may read providers; only an admin changes them, and refusals are audited", async () => {
      assert.equal((await h.call("GET", `${A}/identityProviders`, { key: userKey })).status, 200);
      assert.equal((await h.call("GET", `${A}/identityProviders/okta`, { key: userKey })).status, 200);
      const create = await h.call("POST", `${A}/identityProviders?identityProviderId=rogue`, {
        key: userKey,
        body: { oidcConfig: { issuerUrl: "https://rogue.example", clientId: "c" } },
      });
      assert.equal(create.status, 403);
      assert.equal((await h.call("PATCH", `${A}/identityProviders/okta`, { key: userKey, body: { enforceSso: true } })).status, 403);
      assert.equal((await h.call("DELETE", `${A}/identityProviders/okta`, { key: userKey })).status, 403);
      const refused = await auditEntries(h, 'email="plain-user@my-account.sa.hearth.local" AND status:"PERMISSION_DENIED"');
      assert.deepEqual(refused.map((e) => e.method).sort(), ["CreateIdentityProvider", "DeleteIdentityProvider", "UpdateIdentityProvider"]);
      assert.ok(refused.every((e) => e.isAdminAction));
    });

    test("another account's providers do not exist for this account's principals", async () => {
      const key = await otherAccount(h, "neighbour");
      assert.equal((await h.call("GET", `${A}/identityProviders/okta`, { key })).status, 404);
      assert.equal((await h.call("GET", "/v1/accounts/neighbour/identityProviders", { key })).body.totalSize, 0);
    });

    test("deleting a provider ends the sessions begun through it", async () => {
      const admin = await h.deps.store.db.selectFrom("users").selectAll().where("email", "=", "admin@example.com").executeTakeFirstOrThrow();
      const viaOkta = await h.deps.store.db.transaction().execute((trx) => startSession(h.deps, trx, admin, "oidc:okta", Date.now()));
      const viaLink = await h.deps.store.db.transaction().execute((trx) => startSession(h.deps, trx, admin, "link", Date.now()));
      const cookie = (t: string) => ({ key: null, headers: { cookie: `hearth_session=${t}` } });
      assert.equal((await h.call("GET", "/auth/session", cookie(viaOkta.token))).status, 200);
      assert.equal((await h.call("DELETE", `${A}/identityProviders/okta`)).status, 200);
      assert.equal((await h.call("GET", `${A}/identityProviders/okta`)).status, 404);
      assert.equal((await h.call("GET", "/auth/session", cookie(viaOkta.token))).status, 401);
      assert.equal((await h.call("GET", "/auth/session", cookie(viaLink.token))).status, 200);
    });
  });
}

describe("the server key that seals client secrets", () => {
  test("without HEARTH_SECRET_KEY it is generated once into <dataDir>/secret-key, mode 0600, and reused", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-key-"));
    try {
      const config = loadConfig({ HEARTH_DATA_DIR: dataDir });
      const key = serverKey(config);
      const file = join(dataDir, "secret-key");
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, "utf8").trim(), key.toString("hex"));
      assert.deepEqual(serverKey(loadConfig({ HEARTH_DATA_DIR: dataDir })), key);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("with HEARTH_SECRET_KEY that key is used and no file is written", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-key-"));
    try {
      const given = randomBytes(32);
      assert.deepEqual(serverKey(loadConfig({ HEARTH_DATA_DIR: dataDir, HEARTH_SECRET_KEY: given.toString("base64") })), given);
      assert.equal(existsSync(join(dataDir, "secret-key")), false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
