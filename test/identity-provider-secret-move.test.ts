import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { auditEntries } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { discoveryDocument } from "./support/oidc-issuer.ts";

/**
 * An identity provider's client secret is write-only, but moving the provider to another
 * `issuerUrl` kept it: the next sign-in sent it (HTTP Basic) to the new issuer's token endpoint, so
 * anyone who could change the URL (an admin key in a CI job, say) could read it by pointing the
 * provider at an issuer of their own and starting a sign-in. A new `issuerUrl` now needs the secret
 * that goes with it (or "" for a public client).
 */
const A = "/v1/accounts/my-account";
const SECRET = "corp-idp-client-secret-7d41a09c";
const FROM_SIGN_IN_PAGE = { "sec-fetch-site": "same-origin" };

/** A loopback issuer that serves discovery and records the Authorization header of each token request (refusing every code). */
async function recordingIssuer() {
  const tokenAuthorizations: string[] = [];
  let issuer = "";
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(discoveryDocument(issuer)));
    }
    if (req.url === "/token") {
      tokenAuthorizations.push(req.headers.authorization ?? "");
      return void res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant" }));
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, tokenAuthorizations, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Starts a web sign-in with provider "corp" and brings the browser back with a made-up code: one token request. */
async function signInAttempt(h: TestHearth): Promise<void> {
  const start = await h.call("GET", "/auth/oidc/my-account/corp/start", { key: null, headers: FROM_SIGN_IN_PAGE });
  assert.equal(start.status, 302, JSON.stringify(start.body));
  const state = new URL(String(start.headers.location)).searchParams.get("state")!;
  const cookie = String(start.headers["set-cookie"]).split(";")[0]!;
  const back = await h.call("GET", `/auth/oidc/callback/my-account/corp?code=made-up&state=${state}`, { key: null, headers: { cookie } });
  assert.equal(back.status, 401, JSON.stringify(back.body));
}

/** Whether one of the recorded headers carries SECRET (client_secret_basic: `Basic base64(id:secret)`, each form-urlencoded). */
const sentSecret = (authorizations: string[]) =>
  authorizations.some((a) => decodeURIComponent(Buffer.from(a.replace(/^Basic /, ""), "base64").toString()).includes(SECRET));

for (const dialect of DIALECTS) {
  describe(`an identity provider's client secret stays with its issuer (${dialect})`, () => {
    let h: TestHearth;
    let corp: Awaited<ReturnType<typeof recordingIssuer>>;
    let attacker: Awaited<ReturnType<typeof recordingIssuer>>;
    before(async () => {
      [corp, attacker] = await Promise.all([recordingIssuer(), recordingIssuer()]);
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: { oidcConfig: { issuerUrl: corp.issuer, clientId: "hearth", clientSecret: SECRET }, tenantDomains: ["corp.example"] },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
    });
    after(async () => {
      await h.stop();
      await Promise.all([corp.close(), attacker.close()]);
    });

    test("reproduction: moving the provider to another issuer without its secret is refused, and a sign-in never sends the secret there", async () => {
      const moved = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { issuerUrl: attacker.issuer } } });
      assert.equal(moved.status, 400, JSON.stringify(moved.body));
      assert.equal(
        moved.body.error.message,
        `oidcConfig.clientSecret must be sent with a new oidcConfig.issuerUrl (or "" for a public client): the stored secret was given for ${corp.issuer} and is never sent to another issuer`,
      );
      const masked = await h.call("PATCH", `${A}/identityProviders/corp?updateMask=oidcConfig.issuerUrl`, {
        body: { oidcConfig: { issuerUrl: attacker.issuer } },
      });
      assert.equal(masked.status, 400, JSON.stringify(masked.body));
      assert.equal((await h.call("GET", `${A}/identityProviders/corp`)).body.oidcConfig.issuerUrl, corp.issuer);
      const [refusal] = await auditEntries(h, 'message="UpdateIdentityProvider" AND resource:"corp"');
      assert.equal(refusal.status.code, "INVALID_ARGUMENT", JSON.stringify(refusal));

      await signInAttempt(h);
      assert.equal(attacker.tokenAuthorizations.length, 0, "the other issuer was never called");
      assert.ok(sentSecret(corp.tokenAuthorizations), "the provider's own issuer still gets its secret");
    });

    test("a move that brings its own secret, or drops it for a public client, goes ahead; a PATCH keeping the issuer needs none", async () => {
      const kept = await h.call("PATCH", `${A}/identityProviders/corp`, {
        body: { displayName: "Corp", oidcConfig: { issuerUrl: corp.issuer, clientId: "hearth" } },
      });
      assert.equal(kept.status, 200, JSON.stringify(kept.body));

      const withSecret = await h.call("PATCH", `${A}/identityProviders/corp`, {
        body: { oidcConfig: { issuerUrl: attacker.issuer, clientSecret: "the-new-issuers-own-secret-1" } },
      });
      assert.equal(withSecret.status, 200, JSON.stringify(withSecret.body));
      const back = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { issuerUrl: corp.issuer, clientSecret: "" } } });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      const publicClient = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { issuerUrl: attacker.issuer } } });
      assert.equal(publicClient.status, 200, "a provider without a secret has none to leak");

      await signInAttempt(h);
      assert.ok(!sentSecret(attacker.tokenAuthorizations), attacker.tokenAuthorizations.join(", "));
    });
  });
}
