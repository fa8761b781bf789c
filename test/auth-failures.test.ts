import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKey } from "../src/domain/api-key-format.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { sealedRefreshToken, startHearthWithIdentityProvider, startIssuer, type TestIssuer } from "./support/oidc-issuer.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";

const A = "/v1/accounts/my-account";
/** The defaults of HEARTH_AUTH_FAILURES_SLOW and _BLOCK, which the reproductions ran with. */
const THROTTLE = { HEARTH_AUTH_FAILURES_SLOW: "10", HEARTH_AUTH_FAILURES_BLOCK: "50" };

const pathOf = (url: string): string => new URL(url).pathname;
const count = (statuses: number[], status: number): number => statuses.filter((s) => s === status).length;

for (const dialect of DIALECTS) {
  describe(`only failed authentications are throttled (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect, {}, THROTTLE));
      const model = await h.call("POST", `${A}/models?modelId=tiny`, { body: { model: { backend: "local", upstreamModel: "tiny-upstream" } } });
      assert.equal(model.status, 200, JSON.stringify(model.body));
    });
    after(() => stop());

    test("lockout of the innocent: after 55 bad keys from one address the admin's key, a session and inference from it are served; the 56th bad key gets 429", async () => {
      // A session begun before the spray, as a person in the console behind the same NAT would have.
      const link = await createSigninLink(h.deps, "my-account", "admin@example.com");
      const redeemed = await h.call("GET", pathOf(link.url), { key: null });
      assert.equal(redeemed.status, 302);
      const cookie = String(redeemed.headers["set-cookie"]).split(";")[0]!;

      // 55 distinct junk keys at once: the check-and-count is one step, so exactly 50 are counted.
      const spray = await Promise.all(Array.from({ length: 55 }, () => h.call("GET", `${A}/users`, { key: generateKey().key })));
      const statuses = spray.map((r) => r.status);
      assert.equal(count(statuses, 401), 50, `statuses: ${statuses.join(",")}`);
      assert.equal(count(statuses, 429), 5);

      const users = await h.call("GET", `${A}/users`);
      assert.equal(users.status, 200, "an API route, with the admin's valid key");
      const verified = await h.call("GET", "/verifyApiKey");
      assert.equal(verified.status, 200, "/verifyApiKey, as a proxy's auth_request asks it");
      assert.equal(verified.headers["x-fireworks-account-id"], "my-account");
      const inference = await infer(h, h.adminKey, chat("accounts/my-account/models/tiny"));
      assert.equal(inference.status, 200, await inference.clone().text());
      const session = await h.call("GET", `${A}/users`, { key: null, headers: { cookie } });
      assert.equal(session.status, 200, "a request with the session cookie");
      // A one-time link is a credential too: a good one is honoured from the throttled address.
      const late = await createSigninLink(h.deps, "my-account", "admin@example.com");
      assert.equal((await h.call("GET", pathOf(late.url), { key: null })).status, 302);

      const junk = await h.call("GET", `${A}/users`, { key: generateKey().key });
      assert.equal(junk.status, 429, "the 56th bad key");
      assert.equal(junk.body.error.status, "RESOURCE_EXHAUSTED");
      assert.match(junk.body.error.message, /too many failed authentication attempts/);
      assert.ok(Number(junk.headers["retry-after"]) >= 1);
      // Every other way of failing is refused the same way while the address is blocked.
      const failures: Array<[string, Promise<{ status: number }>]> = [
        ["bad key at /verifyApiKey", h.call("GET", "/verifyApiKey", { key: generateKey().key })],
        ["bad key at inference", infer(h, generateKey().key, chat("accounts/my-account/models/tiny"))],
        ["ended session", h.call("GET", `${A}/users`, { key: null, headers: { cookie: `hearth_session=${"x".repeat(43)}` } })],
        ["unsigned ID token", h.call("GET", `${A}/users`, { key: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln" })],
        ["used-up link", h.call("GET", pathOf(link.url), { key: null })],
        ["junk firectl code", h.call("POST", "/auth/cli/token", { key: null, body: { code: "c".repeat(43), codeVerifier: "v".repeat(43) } })],
      ];
      for (const [what, res] of failures) assert.equal((await res).status, 429, what);
      assert.equal((await h.call("GET", `${A}/users`)).status, 200, "and the valid key still passes");
      assert.equal((await auditEntries(h, 'message="ListUsers" AND status:"UNAUTHENTICATED"')).length, 3, "the first refusals are audited one by one");
    });
  });

  describe(`an IPv6 client is counted by its /64 (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { ...THROTTLE, HEARTH_TRUST_PROXY: "true" });
    });
    after(() => h.stop());

    test("regression: 55 bad keys, each from another address of one /64, reach the block; another /64 and an IPv4 client are not blocked", async () => {
      // Each address of the /64 was counted apart, so a client rotating addresses was never slowed or blocked.
      const from = (address: string) => ({ "x-forwarded-for": address });
      const spray = await Promise.all(
        Array.from({ length: 55 }, (_, i) => h.call("GET", `${A}/users`, { key: generateKey().key, headers: from(`2001:db8:7:1::${(i + 1).toString(16)}`) })),
      );
      const statuses = spray.map((r) => r.status);
      assert.equal(count(statuses, 401), 50, `statuses: ${statuses.join(",")}`);
      assert.equal(count(statuses, 429), 5);
      const rotated = await h.call("GET", `${A}/users`, { key: generateKey().key, headers: from("2001:db8:7:1:ffff:ffff:ffff:fffe") });
      assert.equal(rotated.status, 429, "a fresh address of the same /64");
      assert.equal((await h.call("GET", `${A}/users`, { headers: from("2001:db8:7:1::99") })).status, 200, "a valid key from that /64 is still served");
      assert.equal((await h.call("GET", `${A}/users`, { key: generateKey().key, headers: from("2001:db8:7:2::1") })).status, 401, "the next /64");
      assert.equal((await h.call("GET", `${A}/users`, { key: generateKey().key, headers: from("192.0.2.7") })).status, 401, "an IPv4 client");
    });
  });

  describe(`junk refresh tokens are throttled before Hearth asks the identity provider (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { displayName: "Corp SSO", tenantDomains: ["corp.example"] }, THROTTLE));
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("unthrottled refresh: 60 junk POST /auth/cli/refresh make at most 50 calls to the provider's token endpoint; the rest get 429", async () => {
      // Sealed as Hearth seals firectl's (an unsealed one never reaches the provider), but unknown to the provider.
      await human(h, "alice@corp.example", "user");
      const before = issuer.tokenRequests();
      const body = { accountId: "my-account", identityProviderId: "corp", refreshToken: sealedRefreshToken(h, "alice-corp-example", "junk-refresh-token") };
      const results = await Promise.all(Array.from({ length: 60 }, () => h.call("POST", "/auth/cli/refresh", { key: null, body })));
      const statuses = results.map((r) => r.status);
      const calls = issuer.tokenRequests() - before;
      assert.ok(calls <= 50, `${calls} calls reached the provider's token endpoint`);
      assert.ok(calls >= 1, "refreshes below the limit are still tried");
      assert.equal(count(statuses, 401), calls, `statuses: ${statuses.join(",")}`);
      assert.equal(count(statuses, 429), 60 - calls);
      const refused = results.find((r) => r.status === 429)!;
      assert.ok(Number(refused.headers["retry-after"]) >= 1);
      assert.match(refused.body.error.message, /too many failed authentication attempts/);
      const more = await h.call("POST", "/auth/cli/refresh", { key: null, body });
      assert.equal(more.status, 429);
      assert.equal(issuer.tokenRequests() - before, calls, "a blocked refresh never reaches the provider");
    });
  });

  describe(`refusals audited with their principal count as failures too (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_AUTH_FAILURES_SLOW: "100", HEARTH_AUTH_FAILURES_BLOCK: "3", HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      await h.listen();
      issuer = await startIssuer({ redirectUris: [] });
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: { oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret }, tenantDomains: ["corp.example"] },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal((await h.call("POST", `${A}/users?userId=ci-bot`, { body: { serviceAccount: true, role: "user" } })).status, 200);
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("a signed ID token naming a service account is refused with its sentence, counted, and past the threshold answered 429; the admin's key still passes", async () => {
      const token = await issuer.mint({ sub: "ci-bot", email: "ci-bot@my-account.sa.hearth.local", email_verified: true });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await h.call("GET", `${A}/users`, { key: token })).status);
      assert.deepEqual(statuses, [403, 403, 403, 429]);
      assert.equal((await h.call("GET", `${A}/users`)).status, 200);
      const audited = await auditEntries(h, 'message="SignIn" AND status:"PERMISSION_DENIED"');
      assert.ok(audited.length >= 3, `${audited.length} refusals audited`);
      assert.ok(
        audited.every((e) => e.principal === "ci-bot@my-account.sa.hearth.local"),
        "each names the service account, once per attempt",
      );
    });
  });
}
