import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { pkceChallenge } from "../src/domain/sign-in.ts";
import { sealRefresh } from "../src/service/cli-sign-in.ts";
import { Browser, followSignIn } from "./support/browser.ts";
import { human } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { discoveryDocument, startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";

/**
 * firectl's refresh token is the identity provider's, sealed by Hearth for the provider, and Hearth
 * sent it to whatever issuer the provider named when firectl renewed its sign-in. An admin who moved
 * the provider to an issuer of their own (bringing that issuer's secret, or none for a public client)
 * was then handed the old issuer's refresh token of every user whose firectl renewed. A refresh token
 * now goes back only to the issuer that issued it.
 */
const A = "/v1/accounts/my-account";
const LOOPBACK = "http://127.0.0.1:9/callback";

/** A loopback issuer that serves discovery and records the body of each token request (refusing every one). */
async function recordingIssuer() {
  const tokenBodies: string[] = [];
  let issuer = "";
  const server = createServer(async (req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(discoveryDocument(issuer)));
    }
    if (req.url === "/token") {
      let body = "";
      for await (const chunk of req) body += String(chunk);
      tokenBodies.push(decodeURIComponent(body));
      return void res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant" }));
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, tokenBodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** firectl's sign-in as `login`, done in-process: the browser's round trip, then the code traded for the credentials. */
async function cliCredentials(h: TestHearth, login: string): Promise<{ refreshToken: string }> {
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const start = `${h.baseUrl}/auth/cli/my-account/corp/start?redirect_uri=${encodeURIComponent(LOOPBACK)}&state=${state}&code_challenge=${pkceChallenge(verifier)}&code_challenge_method=S256`;
  const back = new URL(await followSignIn(new Browser(), start, login, (u) => u.href.startsWith(LOOPBACK)));
  const code = back.searchParams.get("code");
  assert.ok(code, back.href);
  const redeemed = await h.call("POST", "/auth/cli/token", { key: null, body: { code, codeVerifier: verifier } });
  assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  assert.ok(redeemed.body.refreshToken, "the test issuer offers offline_access");
  return redeemed.body;
}

const refresh = (h: TestHearth, refreshToken: string) =>
  h.call("POST", "/auth/cli/refresh", { key: null, body: { accountId: "my-account", identityProviderId: "corp", refreshToken } });

for (const dialect of DIALECTS) {
  describe(`a firectl refresh token goes back only to the issuer that issued it (${dialect})`, () => {
    let h: TestHearth;
    let corp: TestIssuer;
    let other: Awaited<ReturnType<typeof recordingIssuer>>;
    before(async () => {
      ({ h, issuer: corp } = await startHearthWithIdentityProvider(dialect, { tenantDomains: ["corp.example"] }));
      await human(h, "alice@corp.example", "user");
      other = await recordingIssuer();
    });
    after(async () => {
      await h.stop();
      await Promise.all([corp.close(), other.close()]);
    });

    test("reproduction: after the provider moved to another issuer, a renewal is refused and that issuer never sees the old refresh token", async () => {
      const { refreshToken } = await cliCredentials(h, "alice@corp.example");
      const renewed = await refresh(h, refreshToken);
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));

      const moved = await h.call("PATCH", `${A}/identityProviders/corp`, {
        body: { oidcConfig: { issuerUrl: other.issuer, clientSecret: "the-other-issuers-own-secret" } },
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      for (const token of [refreshToken, renewed.body.refreshToken as string]) {
        const res = await refresh(h, token);
        assert.equal(res.status, 401, JSON.stringify(res.body));
        assert.equal(res.body.error.message, `identity provider "corp" has changed since this firectl sign-in; run 'firectl signin' again`);
      }
      assert.deepEqual(other.tokenBodies, [], "the other issuer was asked for nothing");
    });

    test("an envelope sealed before the issuer was recorded is taken only while the provider has not changed since (here: moved above)", async () => {
      const legacy = (signInTime: number) =>
        sealRefresh(h.deps, "my-account", "corp", { refreshToken: "legacy-refresh-token", userId: "alice-corp-example", signInTime });
      const before = await refresh(h, legacy(Date.now() - 3_600_000));
      assert.equal(before.status, 401, JSON.stringify(before.body));
      assert.match(before.body.error.message, /has changed since this firectl sign-in/);
      assert.deepEqual(other.tokenBodies, []);
      // Signed in after the last change: the provider is asked (and refuses this made-up token).
      const since = await refresh(h, legacy(Date.now()));
      assert.equal(since.status, 401, JSON.stringify(since.body));
      assert.match(since.body.error.message, /refused the refresh token/);
      assert.equal(other.tokenBodies.length, 1);
    });
  });
}
