import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { createHearth } from "../src/server.ts";
import { migrate } from "../src/store/migrations.ts";
import { openStore } from "../src/store/store.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { auditEntries, human, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, freshDatabase, type TestHearth } from "./support/hearth.ts";
import { isHearthCallback, startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";
import { hearth } from "./support/process.ts";

/**
 * Issue 13, items 2 and 4 (and two token rules of item 7): who an identity provider's token may
 * name, and which account an (issuer, client id) pair belongs to. Every reproduction's values are kept.
 */
const A = "/v1/accounts/my-account";
const PAIR_TAKEN = "this issuer and client id are registered to another account; ask the operator";
const now = () => Math.floor(Date.now() / 1000);

for (const dialect of DIALECTS) {
  describe(`federation trust: claims to principal (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    let userKey: string;

    async function webSignIn(login: string) {
      const browser = new Browser();
      const callback = await followSignIn(browser, `${h.baseUrl}/auth/oidc/my-account/corp/start`, login, isHearthCallback(h), FROM_HEARTH_PAGE);
      const res = await browser.request(callback);
      return { browser, res, body: res.headers.get("content-type")?.startsWith("application/json") ? ((await res.json()) as any) : undefined };
    }
    const bearer = (token: string) => h.call("GET", "/verifyApiKey", { key: token });
    const verifiedToken = (claims: Record<string, unknown>) => issuer.mint({ email_verified: true, ...claims });

    before(async () => {
      const started = await startHearthWithIdentityProvider(dialect, { tenantDomains: ["corp.example"], enableJitUserProvisioning: true });
      ({ h, issuer } = started);
      assert.equal(started.provider.trustEmailWithoutVerifiedClaim, false, "default: only email_verified true is trusted");
      await human(h, "alice@corp.example", "user");
      userKey = (await serviceAccountWithKey(h, "plain-user", "user")).key;
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("regression: a bearer token of a tenant-domain provider asserting admin@example.com is not the bootstrap admin", async () => {
      const token = await verifiedToken({ sub: "attacker-1", email: "admin@example.com" });
      for (const res of [await bearer(token), await h.call("GET", `${A}/users`, { key: token })]) {
        assert.equal(res.status, 403, JSON.stringify(res.body));
        assert.match(res.body.error.message, /"admin@example.com" is not a user of account "my-account" who may sign in through identity provider "corp"/);
      }
      const refusals = await auditEntries(h, 'message="SignIn" AND email="admin@example.com" AND status:"PERMISSION_DENIED"');
      assert.ok(refusals.some((e) => e.payload.via === "oidc-token" && e.payload.identityProvider === "corp"));
    });

    test("regression: a browser sign-in as admin@example.com through a tenant-domain provider starts no admin session", async () => {
      const { res, browser, body } = await webSignIn("admin@example.com");
      assert.equal(res.status, 403);
      assert.match(body.error.message, /"admin@example.com" is not a user of account "my-account" who may sign in/);
      assert.equal(browser.cookie(h.baseUrl, "hearth_session"), undefined);
      const refusals = await auditEntries(h, 'message="SignIn" AND email="admin@example.com" AND status:"PERMISSION_DENIED"');
      assert.ok(refusals.some((e) => e.payload.via === "oidc"));
    });

    test('regression: email_verified "false" (a string) and a missing email_verified are not verified; each refusal is audited', async () => {
      const asString = await bearer(await issuer.mint({ sub: "alice-s", email: "alice@corp.example", email_verified: "false" }));
      assert.equal(asString.status, 403);
      assert.equal(asString.body.error.message, 'the identity provider has not verified the email "alice@corp.example"');
      const missing = await bearer(await issuer.mint({ sub: "alice-s", email: "alice@corp.example" }));
      assert.equal(missing.status, 403);
      assert.match(missing.body.error.message, /no "email_verified" claim\); an admin may set trustEmailWithoutVerifiedClaim/);
      // The browser path wrote nothing for this refusal before.
      const web = await webSignIn("unverified-carol@corp.example");
      assert.equal(web.res.status, 403);
      const refusals = await auditEntries(h, 'message="SignIn" AND status:"PERMISSION_DENIED" AND status:"verified"');
      assert.ok(refusals.some((e) => e.principal === "alice@corp.example" && e.payload.via === "oidc-token"));
      assert.ok(refusals.some((e) => e.principal === "unverified-carol@corp.example" && e.payload.via === "oidc"));
      assert.equal((await h.call("GET", `${A}/users/alice-corp-example`)).body.identityBindings.length, 0, "nothing was bound");
    });

    test("trustEmailWithoutVerifiedClaim: true admits a token without the claim, never one that says false", async () => {
      const patched = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { trustEmailWithoutVerifiedClaim: true } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((await h.call("GET", `${A}/identityProviders/corp`)).body.trustEmailWithoutVerifiedClaim, true);
      const openapi = JSON.stringify((await h.call("GET", "/openapi.json", { key: null })).body);
      assert.ok(openapi.includes("trustEmailWithoutVerifiedClaim"));
      try {
        const missing = await bearer(await issuer.mint({ sub: "trusted-1", email: "trusted@corp.example" }));
        assert.equal(missing.status, 200, JSON.stringify(missing.body));
        assert.equal(missing.headers["x-hearth-principal"], "trusted@corp.example");
        assert.equal((await bearer(await issuer.mint({ sub: "trusted-1", email: "trusted@corp.example", email_verified: "false" }))).status, 403);
        assert.equal((await bearer(await issuer.mint({ sub: "trusted-1", email: "trusted@corp.example", email_verified: false }))).status, 403);
      } finally {
        const masked = await h.call("PATCH", `${A}/identityProviders/corp?updateMask=trust_email_without_verified_claim`, { body: {} });
        assert.equal(masked.body.trustEmailWithoutVerifiedClaim, false);
      }
    });

    test("regression: a token with the same email but another sub is refused once the user is bound; unbind lets the next sign-in rebind", async () => {
      assert.equal((await bearer(await verifiedToken({ sub: "alice-sub-1", email: "alice@corp.example" }))).status, 200);
      const bound = await h.call("GET", `${A}/users/alice-corp-example`);
      assert.deepEqual(
        bound.body.identityBindings.map((b: any) => [b.identityProvider, b.issuer, b.subject]),
        [["accounts/my-account/identityProviders/corp", issuer.issuer, "alice-sub-1"]],
      );
      const other = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example" }));
      assert.equal(other.status, 403);
      assert.match(other.body.error.message, /"alice@corp.example" is bound to another subject of identity provider "corp".*:unbindIdentity/);
      const [refused] = await auditEntries(h, 'message="SignIn" AND email="alice@corp.example" AND status:"bound to another subject"');
      assert.equal(refused.payload.via, "oidc-token");

      const url = `${A}/users/alice-corp-example:unbindIdentity`;
      assert.equal((await h.call("POST", url, { key: userKey, body: { identityProvider: "corp" } })).status, 403, "admin only");
      const unbound = await h.call("POST", url, { body: { identityProvider: "accounts/my-account/identityProviders/corp" } });
      assert.equal(unbound.status, 200, JSON.stringify(unbound.body));
      assert.deepEqual(unbound.body.identityBindings, []);
      assert.equal((await h.call("POST", url, { body: { identityProvider: "corp" } })).status, 404, "nothing left to unbind");
      const audits = await auditEntries(h, 'message="UnbindIdentity"');
      assert.deepEqual(audits.map((e) => e.status.code).sort(), ["NOT_FOUND", "OK", "PERMISSION_DENIED"]);

      assert.equal((await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example" }))).status, 200, "rebound to the new subject");
      assert.equal((await h.call("GET", `${A}/users/alice-corp-example`)).body.identityBindings[0].subject, "alice-sub-2");
      assert.equal((await bearer(await verifiedToken({ sub: "alice-sub-1", email: "alice@corp.example" }))).status, 403, "the old subject is now the stranger");
    });

    test("regression: a user stored before bindings existed is bound at its next allowed sign-in (browser), then keeps that subject", async () => {
      await human(h, "dora@corp.example", "user");
      const first = await webSignIn("dora@corp.example");
      assert.equal(first.res.status, 302);
      const [binding] = (await h.call("GET", `${A}/users/dora-corp-example`)).body.identityBindings;
      assert.equal(binding.subject, "dora@corp.example", "the test issuer's subject is the login");
      assert.equal((await bearer(await verifiedToken({ sub: "someone-else", email: "dora@corp.example" }))).status, 403);
      assert.equal((await bearer(await verifiedToken({ sub: "dora@corp.example", email: "dora@corp.example" }))).status, 200);
    });

    test("regression: malformed asserted emails are a 403 with a sentence, never a 500 (ERR_INVALID_CHAR), and audited", async () => {
      const bad = ["x@evil.test@corp.example", '"odd name"@corp.example', "evil\r\nx-injected: 1@corp.example", "evil\u001b[31m@corp.example"];
      for (const email of bad) {
        const res = await bearer(await verifiedToken({ sub: `bad-${bad.indexOf(email)}`, email }));
        assert.equal(res.status, 403, `${JSON.stringify(email)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.message, `the identity provider's email ${JSON.stringify(email)} is not a valid email address`);
        assert.equal(res.headers["x-hearth-principal"], undefined);
        // POST /users refuses the same values with the same check.
        assert.equal((await h.call("POST", `${A}/users`, { body: { email, role: "user" } })).status, 400);
      }
      const audits = await auditEntries(h, 'message="SignIn" AND status:"is not a valid email address"');
      for (const email of bad)
        assert.ok(
          audits.some((e) => e.payload.email === email && e.principal === ""),
          JSON.stringify(email),
        );
      // Through the browser, the provider's login is the email.
      for (const email of bad.slice(0, 2)) {
        const web = await webSignIn(email);
        assert.equal(web.res.status, 403, email);
        assert.match(web.body.error.message, /is not a valid email address/);
      }
    });

    test("regression: a token with several audiences and no azp is refused; with azp = the client id it is accepted", async () => {
      const aud = [issuer.clientId, "another-client"];
      const noAzp = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", aud }));
      assert.equal(noAzp.status, 401);
      assert.match(noAzp.body.error.message, /several audiences and no "azp" claim/);
      const wrongAzp = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", aud, azp: "another-client" }));
      assert.equal(wrongAzp.status, 401);
      const withAzp = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", aud, azp: issuer.clientId }));
      assert.equal(withAzp.status, 200, JSON.stringify(withAzp.body));
    });

    test("regression: a token valid for 2 years, or without iat, is refused (HEARTH_OIDC_MAX_TOKEN_LIFETIME_S, default 86400)", async () => {
      const t = now();
      const twoYears = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", iat: t, exp: t + 2 * 365 * 86400 }));
      assert.equal(twoYears.status, 401);
      assert.equal(
        twoYears.body.error.message,
        `the OIDC token is valid for ${2 * 365 * 86400} seconds, longer than the 86400 allowed (HEARTH_OIDC_MAX_TOKEN_LIFETIME_S)`,
      );
      const noIat = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", iat: undefined }));
      assert.equal(noIat.status, 401);
      assert.match(noIat.body.error.message, /"iat" claim/);
      const day = await bearer(await verifiedToken({ sub: "alice-sub-2", email: "alice@corp.example", iat: now() - 60, exp: now() + 86400 - 120 }));
      assert.equal(day.status, 200, "within a day is fine");
    });
  });

  describe(`federation trust: one account per issuer and client id (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    let attackerKey: string;

    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { tenantDomains: ["corp.example"], clientType: "public" }));
      await human(h, "alice@corp.example", "user");
      attackerKey = await otherAccount(h, "attacker");
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("regression: another account cloning the victim's issuer and client id gets 409; the victim's tokens keep working", async () => {
      const pair = { issuerUrl: issuer.issuer, clientId: issuer.clientId };
      const clone = await h.call("POST", "/v1/accounts/attacker/identityProviders?identityProviderId=clone", { key: attackerKey, body: { oidcConfig: pair } });
      assert.equal(clone.status, 409);
      assert.equal(clone.body.error.message, PAIR_TAKEN);
      assert.equal(JSON.stringify(clone.body).includes("my-account"), false, "which account holds it is not revealed");
      const [refused] = await h
        .call("GET", "/v1/accounts/attacker/auditLogs?filter=" + encodeURIComponent('message="CreateIdentityProvider"'), { key: attackerKey })
        .then((r) => r.body.auditLogs);
      assert.equal(refused.status.code, "ALREADY_EXISTS");

      // Registered under another client id, then patched onto the victim's: refused too.
      const own = await h.call("POST", "/v1/accounts/attacker/identityProviders?identityProviderId=own", {
        key: attackerKey,
        body: { oidcConfig: { issuerUrl: issuer.issuer, clientId: "attacker-client" } },
      });
      assert.equal(own.status, 200, JSON.stringify(own.body));
      const patched = await h.call("PATCH", "/v1/accounts/attacker/identityProviders/own", {
        key: attackerKey,
        body: { oidcConfig: { clientId: issuer.clientId } },
      });
      assert.equal(patched.status, 409);
      assert.equal(patched.body.error.message, PAIR_TAKEN);
      const sameAccount = await h.call("POST", `${A}/identityProviders?identityProviderId=corp-again`, { body: { oidcConfig: pair } });
      assert.equal(sameAccount.status, 409);
      assert.match(sameAccount.body.error.message, /identity provider "corp" of this account already uses this issuer and client id/);

      await h.call("POST", "/v1/accounts/attacker/users", { key: attackerKey, body: { email: "alice@corp.example", role: "admin" } });
      const token = await issuer.mint({ sub: "alice-sub", email: "alice@corp.example", email_verified: true });
      const verified = await h.call("GET", "/verifyApiKey", { key: token });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.equal(verified.headers["x-hearth-principal"], "alice@corp.example");
      assert.equal(verified.body.accountId, "my-account");
      assert.equal((await h.call("GET", "/v1/accounts/attacker/users", { key: token })).status, 401, "the attacker's account does not accept them");
    });

    test("regression: the reviewer's spellings of the victim's issuer (trailing slash, case, leading-zero port, dot segments, hex and short IPv4) cannot register its client id", async () => {
      const port = new URL(issuer.issuer).port;
      const sameSpelling = [`${issuer.issuer}/`];
      const otherSpellings = [
        `HTTP://127.0.0.1:${port}`,
        `http://127.0.0.1:0${port}`,
        `http://127.0.0.1:${port}/.`,
        `http://127.0.0.1:${port}/./`,
        `http://0x7f.1:${port}`,
        `http://127.1:${port}`,
      ];
      let n = 0;
      for (const issuerUrl of sameSpelling) {
        const clone = await h.call("POST", `/v1/accounts/attacker/identityProviders?identityProviderId=clone${n++}`, {
          key: attackerKey,
          body: {
            oidcConfig: { issuerUrl, clientId: issuer.clientId },
            tenantDomains: ["corp.example"],
            enableJitUserProvisioning: true,
            jitDefaultRole: "admin",
          },
        });
        assert.equal(clone.status, 409, `${issuerUrl}: ${JSON.stringify(clone.body)}`);
        assert.equal(clone.body.error.message, PAIR_TAKEN);
      }
      for (const issuerUrl of otherSpellings) {
        const clone = await h.call("POST", `/v1/accounts/attacker/identityProviders?identityProviderId=clone${n++}`, {
          key: attackerKey,
          body: {
            oidcConfig: { issuerUrl, clientId: issuer.clientId },
            tenantDomains: ["corp.example"],
            enableJitUserProvisioning: true,
            jitDefaultRole: "admin",
          },
        });
        assert.equal(clone.status, 400, `${issuerUrl}: ${JSON.stringify(clone.body)}`);
        assert.match(clone.body.error.message, /invalid oidcConfig\.issuerUrl .*: write it as "http:\/\/127\.0\.0\.1:\d+\/"/);
      }
      // Nor by renaming a provider the attacker registered under its own client id.
      const patched = await h.call("PATCH", "/v1/accounts/attacker/identityProviders/own", {
        key: attackerKey,
        body: { oidcConfig: { issuerUrl: `${issuer.issuer}/`, clientId: issuer.clientId } },
      });
      assert.equal(patched.status, 409);
      const listed = await h.call("GET", "/v1/accounts/attacker/identityProviders", { key: attackerKey });
      assert.deepEqual(
        listed.body.identityProviders.map((p: { oidcConfig: { clientId: string } }) => p.oidcConfig.clientId),
        ["attacker-client"],
      );
    });

    test("hearth identity-provider release (a real process) disables the holder, audits it as the operator, and frees the pair", async () => {
      const run = await hearth(["identity-provider", "release", issuer.issuer, issuer.clientId], h.env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /accounts\/my-account\/identityProviders\/corp is DISABLED/);
      const got = await h.call("GET", `${A}/identityProviders/corp`);
      assert.equal(got.body.state, "DISABLED");
      const token = await issuer.mint({ sub: "alice-sub", email: "alice@corp.example", email_verified: true });
      const refused = await h.call("GET", `${A}/users`, { key: token });
      assert.equal(refused.status, 403);
      assert.equal(
        refused.body.error.message,
        'identity provider "corp" of account "my-account" is disabled: its issuer and client id are registered to another account; ask the operator',
      );
      const [entry] = await auditEntries(h, 'message="ReleaseIdentityProvider"');
      assert.equal(entry.principal, "operator");
      assert.equal(entry.isAdminAction, true);
      assert.equal((await h.call("GET", "/auth/providers?account=my-account", { key: null })).body.identityProviders.length, 0, "no longer offered at sign-in");

      const taken = await h.call("POST", "/v1/accounts/attacker/identityProviders?identityProviderId=rightful", {
        key: attackerKey,
        body: { oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId } },
      });
      assert.equal(taken.status, 200, JSON.stringify(taken.body));
      const missing = await hearth(["identity-provider", "release", "https://nobody.example", "none"], h.env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no identity provider holds issuer "https:\/\/nobody.example"/);
    });
  });

  describe(`federation trust: upgrading a store with duplicate registrations (${dialect})`, () => {
    test("regression: the oldest registration keeps the pair, later ones are disabled and named at start-up", async () => {
      const db = await freshDatabase(dialect);
      try {
        const env: Record<string, string> = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
        const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HEARTH_DATA_DIR, migrate: false });
        await migrate(store.db, store.dialect, 6);
        for (const account of ["victim", "squatter", "third"]) {
          await sql`insert into accounts values (${account}, ${account}, ${`admin@${account}.example`}, 'ACTIVE', 1, 1)`.execute(store.db);
        }
        // The third spells the issuer otherwise (case, trailing slash): still the same pair.
        const rows: Array<[string, string, number, string, string]> = [
          ["squatter", "copy", 2000, "client-1", "https://login.corp.example"],
          ["victim", "corp", 1000, "client-1", "https://login.corp.example"],
          ["third", "copy-too", 3000, "client-1", "https://LOGIN.corp.example/"],
          ["third", "own", 4000, "client-2", "https://login.corp.example"],
        ];
        for (const [account, id, time, client, issuerUrl] of rows) {
          await sql`insert into identity_providers values (${account}, ${id}, ${id}, ${issuerUrl}, ${client}, null, '[]', 0, 'inference-user', 0, ${time}, ${time})`.execute(
            store.db,
          );
        }
        await store.close();

        const logs: string[] = [];
        const logStream = new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) });
        const started = await createHearth(loadConfig(env), { logStream });
        try {
          const states = await started.deps.store.db.selectFrom("identity_providers").select(["account_id", "id", "state"]).orderBy("create_time").execute();
          assert.deepEqual(
            states.map((r) => `${r.account_id}/${r.id}=${r.state}`),
            ["victim/corp=READY", "squatter/copy=DISABLED", "third/copy-too=DISABLED", "third/own=READY"],
          );
          const warnings = logs.join("");
          assert.match(warnings, /accounts\/squatter\/identityProviders\/copy is DISABLED/);
          assert.match(warnings, /accounts\/third\/identityProviders\/copy-too is DISABLED/);
          assert.doesNotMatch(warnings, /identityProviders\/corp is DISABLED/);
          // The index now holds: a third READY registration of the pair is refused at the store.
          await assert.rejects(
            sql`update identity_providers set state = 'READY' where id = 'copy'`.execute(started.deps.store.db),
            (e: any) => e.code === "23505" || e.errcode === 2067,
          );
          await assert.rejects(
            sql`update identity_providers set state = 'READY' where id = 'copy-too'`.execute(started.deps.store.db),
            (e: any) => e.code === "23505" || e.errcode === 2067,
            "the other spelling is the same pair",
          );
        } finally {
          await started.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
