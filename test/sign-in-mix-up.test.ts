import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { human, otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { createIdentityProvider, hearthCallback, isHearthCallback, startIssuer, type TestIssuer } from "./support/oidc-issuer.ts";

/**
 * The mix-up attack (RFC 9700 §4.4) across accounts. The admin of any account registers a provider
 * whose authorization endpoint forwards a victim to the victim's real provider, with Hearth's client
 * id there, the victim's own `state`, and the nonce and PKCE challenge of a sign-in the attacker began
 * to the victim's account. The victim, lured to the attacker account's sign-in button, signs in at
 * its real provider. When every provider shared one redirect URI, Hearth read the victim's login
 * cookie (the attacker's provider) and traded the honest code at the attacker's token endpoint; the
 * attacker then finished its own sign-in with that code and was the victim, an admin. Against a
 * provider without RFC 9207's `iss`, nothing else stopped it. Now each provider has its own redirect
 * URI, and a browser that comes back to another provider's is refused before any code is traded.
 */
for (const dialect of DIALECTS) {
  describe(`identity provider mix-up (${dialect})`, () => {
    let h: TestHearth;
    let honest: TestIssuer;
    let evil: Server;
    let evilIssuer: string;
    const stolen: string[] = [];
    let inject: { nonce: string; challenge: string } | undefined;
    let evilKey: string;

    before(async () => {
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      await h.listen();
      honest = await startIssuer({ redirectUris: [hearthCallback(h)], withoutIssParameter: true });
      evil = createServer((req, res) => {
        const url = new URL(req.url!, evilIssuer);
        if (url.pathname === "/.well-known/openid-configuration") {
          res.setHeader("content-type", "application/json");
          const endpoints = { authorization_endpoint: `${evilIssuer}/auth`, token_endpoint: `${evilIssuer}/token`, jwks_uri: `${evilIssuer}/keys` };
          return res.end(JSON.stringify({ issuer: evilIssuer, ...endpoints, response_types_supported: ["code"], subject_types_supported: ["public"] }));
        }
        if (url.pathname === "/auth") {
          // On to the honest provider, with Hearth's registered redirect URI there and the attacker's nonce and challenge.
          const to = new URL(`${honest.issuer}/auth`);
          to.search = new URLSearchParams({
            client_id: honest.clientId,
            redirect_uri: hearthCallback(h),
            response_type: "code",
            scope: "openid email",
            state: url.searchParams.get("state")!,
            nonce: inject!.nonce,
            code_challenge: inject!.challenge,
            code_challenge_method: "S256",
          }).toString();
          res.writeHead(302, { location: to.href });
          return res.end();
        }
        if (url.pathname === "/token") {
          let body = "";
          req.on("data", (c) => (body += c));
          req.on("end", () => {
            stolen.push(new URLSearchParams(body).get("code")!);
            res.writeHead(400, { "content-type": "application/json" }).end('{"error":"invalid_grant"}');
          });
          return;
        }
        res.writeHead(404).end();
      });
      evil.listen(0, "127.0.0.1");
      await once(evil, "listening");
      evilIssuer = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
      await createIdentityProvider(h, honest, { tenantDomains: ["corp.example"] });
      await human(h, "boss@corp.example", "admin");
      evilKey = await otherAccount(h, "evil-acct");
      const made = await h.call("POST", `/v1/accounts/evil-acct/identityProviders?identityProviderId=corp-sso`, {
        key: evilKey,
        body: { displayName: "Corp SSO", oidcConfig: { issuerUrl: evilIssuer, clientId: "x", clientSecret: "evil-client-secret-1" } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    });
    after(async () => {
      await h.stop();
      await honest.close();
      evil.closeAllConnections();
      evil.close();
    });

    test("a code the honest provider sends back never reaches another account's provider, and the attacker is not signed in", async () => {
      const attacker = new Browser();
      const start = await attacker.request(`${h.baseUrl}/auth/oidc/my-account/corp/start`, { headers: FROM_HEARTH_PAGE });
      const authorization = new URL(start.headers.get("location")!);
      assert.equal(authorization.searchParams.get("redirect_uri"), hearthCallback(h), "each provider its own redirect URI");
      inject = { nonce: authorization.searchParams.get("nonce")!, challenge: authorization.searchParams.get("code_challenge")! };

      const victim = new Browser();
      const back = await followSignIn(victim, `${h.baseUrl}/auth/oidc/evil-acct/corp-sso/start`, "boss@corp.example", isHearthCallback(h), FROM_HEARTH_PAGE);
      assert.equal(new URL(back).pathname, "/auth/oidc/callback/my-account/corp", "the honest provider sends the browser to its own address");
      assert.equal(new URL(back).searchParams.get("iss"), null, "a provider without RFC 9207");
      const refused = await victim.request(back, { headers: { accept: "application/json" } });
      assert.equal(refused.status, 401);
      assert.match(
        ((await refused.json()) as any).error.message,
        /this sign-in began with identity provider "corp-sso" of account "evil-acct", but the browser came back to the address of "corp" of account "my-account"/,
      );
      assert.deepEqual(stolen, [], "no code was traded at the attacker's token endpoint");
      const session = await attacker.request(`${h.baseUrl}/auth/session`);
      assert.equal(session.status, 401, "the attacker holds no session");
      // Recorded in the account whose sign-in it was.
      const filter = encodeURIComponent('method="FinishOidcSignIn"');
      const entries = (await h.call("GET", `/v1/accounts/evil-acct/auditLogs?filter=${filter}`, { key: evilKey })).body.auditLogs as any[];
      assert.ok(entries.some((e) => e.status.code === "UNAUTHENTICATED" && /came back to the address of "corp"/.test(e.status.message)));
    });

    test("the shared callback address of before is no longer served", async () => {
      assert.equal((await h.call("GET", "/auth/oidc/callback?code=x&state=y", { key: null })).status, 404);
    });

    test("a sign-in through the honest provider still works", async () => {
      const browser = new Browser();
      const back = await followSignIn(browser, `${h.baseUrl}/auth/oidc/my-account/corp/start`, "boss@corp.example", isHearthCallback(h), FROM_HEARTH_PAGE);
      assert.equal((await browser.request(back)).status, 302);
      const who = (await (await browser.request(`${h.baseUrl}/auth/session`)).json()) as any;
      assert.deepEqual([who.accountId, who.email], ["my-account", "boss@corp.example"]);
    });
  });
}
