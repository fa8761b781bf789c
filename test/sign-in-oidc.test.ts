import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import { SERVICE_ACCOUNT_SIGN_IN } from "../src/domain/sign-in.ts";
import { startSession } from "../src/service/sessions.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { hearthCallback, isHearthCallback, startIssuer, TEST_CLIENT_REDIRECT, type TestIssuer } from "./support/oidc-issuer.ts";

const A = "/v1/accounts/my-account";
const SA_EMAIL = "ci-bot@my-account.sa.hearth.local";

/** An ID token for `login`, obtained from the issuer the way any OIDC client would (code + PKCE). */
async function idTokenFor(issuer: TestIssuer, login: string): Promise<string> {
  const config = await client.discovery(new URL(issuer.issuer), issuer.clientId, issuer.clientSecret, client.ClientSecretBasic(issuer.clientSecret), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: TEST_CLIENT_REDIRECT,
    scope: "openid email",
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const back = await followSignIn(new Browser(), url.href, login, (u) => u.href.startsWith(TEST_CLIENT_REDIRECT));
  const tokens = await client.authorizationCodeGrant(config, new URL(back), { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.id_token!;
}

for (const dialect of DIALECTS) {
  describe(`OIDC sign-in against a real identity provider (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    let otherIssuer: TestIssuer;
    let saKey: string;
    const responses: unknown[] = [];

    /** Signs `login` in through the whole redirect dance; returns Hearth's callback response and the browser. */
    async function webSignIn(login: string, next = "/account/users") {
      const browser = new Browser();
      const start = `${h.baseUrl}/auth/oidc/my-account/corp/start?next=${encodeURIComponent(next)}`;
      const callback = await followSignIn(browser, start, login, isHearthCallback(h), FROM_HEARTH_PAGE);
      const res = await browser.request(callback);
      return { browser, res };
    }

    before(async () => {
      // The test issuer listens on loopback: the operator switch lets Hearth reach it.
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      await h.listen();
      issuer = await startIssuer({ redirectUris: [hearthCallback(h)] });
      otherIssuer = await startIssuer({ redirectUris: [] });
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: {
          displayName: "Corp SSO",
          oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret },
          tenantDomains: ["corp.example"],
          enableJitUserProvisioning: true,
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      responses.push(created.body);
      await human(h, "alice@corp.example", "user");
      saKey = (await serviceAccountWithKey(h, "ci-bot")).key;
    });
    after(async () => {
      await h.stop();
      await issuer.close();
      await otherIssuer.close();
    });

    test("a human signs in through the full redirect dance and uses the API with the session cookie", async () => {
      const { browser, res } = await webSignIn("alice@corp.example");
      assert.equal(res.status, 302, await res.clone().text());
      assert.equal(res.headers.get("location"), "/account/users");
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("hearth_session="))!;
      assert.match(setCookie, /; Path=\//);
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Lax/);
      assert.doesNotMatch(setCookie, /Secure/, "plain http: no Secure attribute");

      const who = await browser.request(`${h.baseUrl}/auth/session`);
      const session = (await who.json()) as any;
      assert.equal(who.status, 200);
      assert.equal(session.email, "alice@corp.example");
      assert.equal(session.via, "session");
      assert.ok(session.csrfToken);

      const users = await browser.request(`${h.baseUrl}${A}/users`);
      assert.equal(users.status, 200);

      // A change through the session, with the CSRF proof, is audited under the human's email with no key.
      const key = await browser.request(`${h.baseUrl}${A}/users/alice-corp-example/apiKeys`, {
        method: "POST",
        body: JSON.stringify({ apiKey: { displayName: "from the console" } }),
        headers: { "content-type": "application/json", origin: h.baseUrl, "x-csrf-token": session.csrfToken },
      });
      assert.equal(key.status, 200, await key.clone().text());
      const [entry] = await auditEntries(h, 'message="CreateApiKey" AND resource:"alice-corp-example"');
      assert.equal(entry.principal, "alice@corp.example");
      assert.equal(entry.apiKeyId, "");
      const signIns = await auditEntries(h, 'message="SignIn" AND email="alice@corp.example"');
      assert.ok(signIns.some((e) => e.payload.via === "oidc" && e.status.code === "OK"));
    });

    test("a cookie-authenticated change without the CSRF proof is refused, with a Bearer credential it needs none", async () => {
      const { browser } = await webSignIn("alice@corp.example");
      const csrf = ((await (await browser.request(`${h.baseUrl}/auth/session`)).json()) as any).csrfToken;
      const url = `${h.baseUrl}${A}/users/alice-corp-example/apiKeys`;
      const json = { "content-type": "application/json" };
      const body = JSON.stringify({ apiKey: {} });
      const noToken = await browser.request(url, { method: "POST", body, headers: { ...json, origin: h.baseUrl } });
      assert.equal(noToken.status, 403);
      assert.match(((await noToken.json()) as any).error.message, /x-csrf-token/);
      const wrongToken = await browser.request(url, { method: "POST", body, headers: { ...json, "x-csrf-token": "x".repeat(43) } });
      assert.equal(wrongToken.status, 403);
      const crossSite = await browser.request(url, { method: "POST", body, headers: { ...json, origin: "https://evil.example", "x-csrf-token": csrf } });
      assert.equal(crossSite.status, 403);
      assert.match(((await crossSite.json()) as any).error.message, /cross-site/);
      const badReferer = await browser.request(url, { method: "POST", body, headers: { ...json, referer: "https://evil.example/page", "x-csrf-token": csrf } });
      assert.equal(badReferer.status, 403);
      const refusals = await auditEntries(h, 'message="CreateApiKey" AND email="alice@corp.example" AND status:"PERMISSION_DENIED"');
      assert.ok(refusals.length >= 4, "each refusal is audited under the human's email");
      // The same change with an API key in the Authorization header is not a CSRF risk.
      const viaKey = await h.call("POST", `${A}/users/my-sa/apiKeys`, { body: { apiKey: {} } });
      assert.equal(viaKey.status, 404, "reaches the handler (no such user), no CSRF check");
    });

    test("sign-out ends the session and clears the cookie", async () => {
      const { browser } = await webSignIn("alice@corp.example");
      const cookie = browser.cookie(h.baseUrl, "hearth_session")!;
      const csrf = ((await (await browser.request(`${h.baseUrl}/auth/session`)).json()) as any).csrfToken;
      const refused = await browser.request(`${h.baseUrl}/auth/signout`, { method: "POST" });
      assert.equal(refused.status, 403, "signing out is a change too: it needs the CSRF proof");
      const out = await browser.request(`${h.baseUrl}/auth/signout`, { method: "POST", headers: { "x-csrf-token": csrf, origin: h.baseUrl } });
      assert.equal(out.status, 200);
      assert.match(out.headers.getSetCookie().join("\n"), /hearth_session=; Max-Age=0; Path=\/;/);
      const replay = await fetch(`${h.baseUrl}/auth/session`, { headers: { cookie: `hearth_session=${cookie}` } });
      assert.equal(replay.status, 401);
      const signOuts = await auditEntries(h, 'message="SignOut" AND email="alice@corp.example"');
      assert.deepEqual(signOuts.map((e) => e.status.code).sort(), ["OK", "PERMISSION_DENIED"], "the refused attempt and the sign-out");
    });

    test("a human calls the API with an OIDC ID token as bearer; the audit names them with no key id", async () => {
      const token = await idTokenFor(issuer, "alice@corp.example");
      const list = await h.call("GET", `${A}/users`, { key: token });
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const who = await h.call("GET", "/auth/session", { key: token });
      assert.equal(who.body.email, "alice@corp.example");
      assert.equal(who.body.via, "oidcToken");
      assert.equal(who.body.csrfToken, undefined);
      const created = await h.call("POST", `${A}/users/alice-corp-example/apiKeys`, { key: token, body: { apiKey: { displayName: "via-oidc-token" } } });
      assert.equal(created.status, 200);
      const entries = await auditEntries(h, 'message="CreateApiKey" AND resource:"alice-corp-example" AND status=""');
      assert.ok(entries.length >= 1);
      assert.ok(entries.every((e) => e.principal === "alice@corp.example" && e.apiKeyId === ""));
      // Without an account in the path the issuer is looked up across accounts.
      const verify = await h.call("GET", "/verifyApiKey", { key: token });
      assert.equal(verify.status, 200);
      assert.equal(verify.headers["x-hearth-principal"], "alice@corp.example");
    });

    test("first sign-in of an unknown email in a tenant domain provisions an inference-user; other domains are refused", async () => {
      const { res } = await webSignIn("newbie@corp.example", "/");
      assert.equal(res.status, 302, await res.clone().text());
      const user = await h.call("GET", `${A}/users/newbie-corp-example`);
      assert.equal(user.status, 200);
      assert.equal(user.body.role, "inference-user");
      assert.equal(user.body.serviceAccount, false);
      const [created] = await auditEntries(h, 'message="CreateUser" AND resource:"newbie-corp-example"');
      assert.equal(created.payload.jitUserProvisioning, true);

      const stranger = await webSignIn("stranger@elsewhere.example");
      assert.equal(stranger.res.status, 403);
      assert.match(((await stranger.res.json()) as any).error.message, /not a user of account/);
      // A person's browser (Accept: text/html) gets the same refusal as a page with the way back.
      const inBrowser = new Browser();
      const back = await followSignIn(
        inBrowser,
        `${h.baseUrl}/auth/oidc/my-account/corp/start`,
        "stranger@elsewhere.example",
        isHearthCallback(h),
        FROM_HEARTH_PAGE,
      );
      const page = await inBrowser.request(back, { headers: { accept: "text/html,application/xhtml+xml" } });
      assert.equal(page.status, 403);
      assert.match(page.headers.get("content-type")!, /^text\/html/);
      const html = await page.text();
      assert.match(html, /<h1>Sign-in failed<\/h1><p>&#34;stranger@elsewhere.example&#34; is not a user of account &#34;my-account&#34;/);
      assert.match(html, /href="\/signin"/);
      assert.equal((await h.call("GET", `${A}/users/stranger-elsewhere-example`)).status, 404);
    });

    test("a bearer ID token of an unknown email in a tenant domain provisions an inference-user too; other domains are refused", async () => {
      const token = await issuer.mint({ sub: "n2", email: "token-newbie@corp.example", email_verified: true });
      const who = await h.call("GET", "/verifyApiKey", { key: token });
      assert.equal(who.status, 200, JSON.stringify(who.body));
      assert.equal(who.body.role, "inference-user");
      assert.equal(who.body.email, "token-newbie@corp.example");
      const [created] = await auditEntries(h, 'message="CreateUser" AND resource:"token-newbie-corp-example"');
      assert.equal(created.payload.jitUserProvisioning, true);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: token })).status, 200, "the second call finds the user");
      const stranger = await h.call("GET", `${A}/users`, {
        key: await issuer.mint({ sub: "s2", email: "token-stranger@elsewhere.example", email_verified: true }),
      });
      assert.equal(stranger.status, 403);
      assert.equal((await h.call("GET", `${A}/users/token-stranger-elsewhere-example`)).status, 404);
    });

    test("just-in-time provisioning counts against the users quota: when it is full, a first sign-in is refused with the quota's message, audited, and creates nobody", async () => {
      const used = (await h.call("GET", `${A}/quotas/users`)).body.usage as number;
      assert.equal((await h.call("PATCH", `${A}/quotas/users`, { body: { value: used } })).status, 200);
      try {
        const token = await issuer.mint({ sub: "full-1", email: "quota-newbie@corp.example", email_verified: true });
        const refused = await h.call("GET", "/verifyApiKey", { key: token });
        assert.equal(refused.status, 429, JSON.stringify(refused.body));
        assert.equal(refused.body.error.message, `quota "users" exceeded: ${used} of ${used} in use, this request needs 1 more`);
        const { res } = await webSignIn("quota-web@corp.example", "/");
        assert.equal(res.status, 429);
        for (const id of ["quota-newbie-corp-example", "quota-web-corp-example"]) assert.equal((await h.call("GET", `${A}/users/${id}`)).status, 404, id);
        const entries = await auditEntries(h, 'message="SignIn" AND status:"RESOURCE_EXHAUSTED"');
        assert.equal(entries.length, 2, "each refused sign-in is audited");
        // An admin's human create is refused the same way; a service account is not a user.
        const byAdmin = await h.call("POST", `${A}/users`, { body: { email: "quota-admin-made@corp.example", role: "user" } });
        assert.equal(byAdmin.status, 429);
        assert.equal((await h.call("POST", `${A}/users?userId=quota-sa`, { body: { serviceAccount: true } })).status, 200);
      } finally {
        assert.equal((await h.call("PATCH", `${A}/quotas/users`, { body: { value: 1000 } })).status, 200);
      }
      const token = await issuer.mint({ sub: "full-2", email: "quota-newbie@corp.example", email_verified: true });
      assert.equal((await h.call("GET", "/verifyApiKey", { key: token })).status, 200, "room again: provisioned");
    });

    test("with one unit of the users quota left, a newcomer's first sign-ins racing (several tabs) all sign in as the one user created; a full quota never refuses an existing user", async () => {
      const used = (await h.call("GET", `${A}/quotas/users`)).body.usage as number;
      assert.equal((await h.call("PATCH", `${A}/quotas/users`, { body: { value: used + 1 } })).status, 200);
      try {
        const tokens = await Promise.all(
          [1, 2, 3, 4].map((i) => issuer.mint({ sub: "tabs-1", email: "quota-tabs@corp.example", email_verified: true, nonce: `tab-${i}` })),
        );
        const answers = await Promise.all(tokens.map((key) => h.call("GET", "/verifyApiKey", { key })));
        for (const answer of answers) {
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          assert.equal(answer.body.userId, "quota-tabs-corp-example");
        }
        assert.equal((await h.call("GET", `${A}/quotas/users`)).body.usage, used + 1, "one user created");
        // Full now: another newcomer is refused, the existing humans still sign in.
        const newcomer = await issuer.mint({ sub: "tabs-2", email: "quota-tabs-late@corp.example", email_verified: true });
        assert.equal((await h.call("GET", "/verifyApiKey", { key: newcomer })).status, 429);
        const again = await issuer.mint({ sub: "tabs-1", email: "quota-tabs@corp.example", email_verified: true });
        assert.equal((await h.call("GET", "/verifyApiKey", { key: again })).status, 200);
      } finally {
        assert.equal((await h.call("PATCH", `${A}/quotas/users`, { body: { value: 1000 } })).status, 200);
      }
    });

    test("an email the identity provider has not verified is refused", async () => {
      const { res } = await webSignIn("unverified-bob@corp.example");
      assert.equal(res.status, 403);
      const token = await issuer.mint({ sub: "u1", email: "alice@corp.example", email_verified: false });
      assert.equal((await h.call("GET", `${A}/users`, { key: token })).status, 403, "a valid token, but the person is not vouched for");
    });

    test("bearer tokens with the wrong audience, expired, from another issuer, tampered or unsigned are refused with 401", async () => {
      const now = Math.floor(Date.now() / 1000);
      const real = await idTokenFor(issuer, "alice@corp.example");
      const [header, payload, signature] = real.split(".");
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
      const tampered = [header, Buffer.from(JSON.stringify({ ...claims, email: "admin@example.com" })).toString("base64url"), signature].join(".");
      const unsigned = [Buffer.from('{"alg":"none"}').toString("base64url"), payload, ""].join(".");
      const cases: Array<[string, string, RegExp]> = [
        ["wrong audience", await issuer.mint({ sub: "a", email: "alice@corp.example", aud: "someone-else" }), /"aud" claim/],
        ["expired", await issuer.mint({ sub: "a", email: "alice@corp.example", iat: now - 7200, exp: now - 3600 }), /expired/],
        ["not yet valid", await issuer.mint({ sub: "a", email: "alice@corp.example", nbf: now + 3600 }), /"nbf" claim/],
        ["another issuer", await otherIssuer.mint({ sub: "a", email: "alice@corp.example" }), /issuer is not an identity provider/],
        [
          "another issuer's key with our issuer name",
          await otherIssuer.mint({ sub: "a", email: "alice@corp.example", iss: issuer.issuer, aud: issuer.clientId }),
          /signature/,
        ],
        ["tampered", tampered, /signature/],
        ["unsigned", unsigned, /./],
        ["not a JWT at all", "opaque-token-value", /neither a Hearth API key nor an OIDC ID token/],
      ];
      for (const [what, token, message] of cases) {
        const res = await h.call("GET", `${A}/users`, { key: token });
        assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, what);
        assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
      }
      assert.equal((await h.call("GET", `${A}/users`, { key: real })).status, 200, "the untampered token still works");
    });

    test("a service account cannot sign in: not through the IdP, not with an OIDC token, not with a session; its API key still works", async () => {
      const web = await webSignIn(SA_EMAIL);
      assert.equal(web.res.status, 403);
      const body = (await web.res.json()) as any;
      assert.equal(body.error.status, "PERMISSION_DENIED");
      assert.equal(body.error.message, SERVICE_ACCOUNT_SIGN_IN);
      assert.equal(web.browser.cookie(h.baseUrl, "hearth_session"), undefined, "no session was started");

      const token = await idTokenFor(issuer, SA_EMAIL);
      const bearer = await h.call("GET", `${A}/users`, { key: token });
      assert.equal(bearer.status, 403);
      assert.equal(bearer.body.error.message, SERVICE_ACCOUNT_SIGN_IN);
      const minted = await h.call("GET", "/verifyApiKey", { key: await issuer.mint({ sub: "x", email: SA_EMAIL, email_verified: true }) });
      assert.equal(minted.status, 403);
      assert.equal(minted.body.error.message, SERVICE_ACCOUNT_SIGN_IN);

      // Sessions only begin through these refused paths; one planted in the store is refused too, and ended.
      const planted = await h.deps.store.db
        .transaction()
        .execute((trx) =>
          startSession(h.deps, trx, { account_id: "my-account", id: "ci-bot", uid: "", email: SA_EMAIL, role: "user", service_account: 1 }, "link", Date.now()),
        );
      const cookie = { cookie: `hearth_session=${planted.token}` };
      const viaSession = await h.call("GET", `${A}/users`, { key: null, headers: cookie });
      assert.equal(viaSession.status, 403);
      assert.equal(viaSession.body.error.message, SERVICE_ACCOUNT_SIGN_IN);
      assert.equal((await h.call("GET", `${A}/users`, { key: null, headers: cookie })).status, 401, "the session is gone");

      const entries = await auditEntries(h, `message="SignIn" AND email="${SA_EMAIL}"`);
      const vias = entries.map((e) => e.payload.via).sort();
      assert.deepEqual([...new Set(vias)], ["oidc", "oidc-token", "session"]);
      for (const e of entries) {
        assert.equal(e.status.code, "PERMISSION_DENIED");
        assert.equal(e.status.message, `PERMISSION_DENIED: ${SERVICE_ACCOUNT_SIGN_IN}`);
        assert.equal(e.apiKeyId, "");
      }
      const withKey = await h.call("GET", "/verifyApiKey", { key: saKey });
      assert.equal(withKey.status, 200);
      assert.equal(withKey.headers["x-hearth-principal"], SA_EMAIL);
    });

    test("the identity provider's client secret never appears in a response, an audit payload or a log line", async () => {
      responses.push((await h.call("GET", `${A}/identityProviders/corp`)).body);
      responses.push((await h.call("GET", `${A}/identityProviders`)).body);
      responses.push((await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { clientSecret: issuer.clientSecret } } })).body);
      responses.push((await h.call("GET", "/openapi.json", { key: null })).body);
      const audit = await h.call("GET", `${A}/auditLogs?pageSize=200&startTime=2000-01-01T00:00:00Z`);
      const idpEntries = audit.body.auditLogs.filter((e: any) => e.method.endsWith("IdentityProvider"));
      assert.ok(idpEntries.length >= 2);
      assert.equal(idpEntries[0].payload.oidcConfig.clientSecret, "[REDACTED]");
      const everything = JSON.stringify([responses, audit.body]) + h.logs.join("");
      assert.ok(h.logs.length > 10);
      assert.equal(everything.includes(issuer.clientSecret), false);
      const row = await h.deps.store.db.selectFrom("identity_providers").selectAll().executeTakeFirstOrThrow();
      assert.ok(row.client_secret && !row.client_secret.includes(issuer.clientSecret), "stored sealed, not in plaintext");
    });
  });
}
