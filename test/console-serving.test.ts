import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ensureConsoleBuilt } from "./support/console.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`web console serving (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      ensureConsoleBuilt();
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("console paths answer the app's page with a CSP, nosniff, frame protection and no-store", async () => {
      for (const path of ["/", "/signin", "/account", "/account/users", "/account/users/ci-bot", "/account/audit-log?range=24h", "/account/anything/else"]) {
        const res = await h.call("GET", path, { key: null });
        assert.equal(res.status, 200, path);
        assert.match(String(res.headers["content-type"]), /^text\/html/, path);
        assert.match(String(res.body), /<div id="root"><\/div>/, path);
        const csp = String(res.headers["content-security-policy"]);
        for (const directive of [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          "connect-src 'self'",
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "object-src 'none'",
        ]) {
          assert.ok(csp.includes(directive), `${path}: CSP lacks ${directive}: ${csp}`);
        }
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.equal(res.headers["x-content-type-options"], "nosniff", path);
        assert.equal(res.headers["x-frame-options"], "DENY", path);
        assert.equal(res.headers["cache-control"], "no-store", path);
      }
    });

    test("the page has no inline script: every script is a same-origin file", async () => {
      const html = String((await h.call("GET", "/", { key: null })).body);
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length > 0);
      for (const [, attrs, body] of scripts) {
        assert.match(attrs!, /\ssrc="\/assets\/[^"]+\.js"/);
        assert.equal(body!.trim(), "");
      }
      assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i);
    });

    test("bundle files are served with their type and a long cache; unknown and traversing names are 404", async () => {
      const html = String((await h.call("GET", "/", { key: null })).body);
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
      const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!;
      const js = await h.call("GET", script, { key: null });
      assert.equal(js.status, 200);
      assert.match(String(js.headers["content-type"]), /^text\/javascript/);
      assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
      assert.equal(js.headers["x-content-type-options"], "nosniff");
      assert.match(String((await h.call("GET", style, { key: null })).headers["content-type"]), /^text\/css/);
      assert.equal((await h.call("GET", "/favicon.svg", { key: null })).headers["content-type"], "image/svg+xml");
      for (const path of ["/assets/nope.js", "/assets/..%2f..%2fpackage.json", "/assets/.hidden", "/assets/%2e%2e%2findex.html"]) {
        const res = await h.call("GET", path, { key: null });
        assert.equal(res.status, 404, path);
        assert.equal(res.body.error.status, "NOT_FOUND", path);
      }
    });

    test("the API keeps its paths: nothing under /v1, /auth, /inference or the service endpoints becomes the console", async () => {
      const notFound = await h.call("GET", "/v1/nothing-here", { key: null });
      assert.equal(notFound.status, 404);
      assert.equal(notFound.body.error.status, "NOT_FOUND");
      assert.equal((await h.call("GET", "/auth/nothing-here", { key: null })).body.error.status, "NOT_FOUND");
      const inference = await h.call("GET", "/inference/v1/nothing-here", { key: null });
      assert.doesNotMatch(String(inference.headers["content-type"]), /text\/html/);
      assert.deepEqual((await h.call("GET", "/healthz", { key: null })).body, { status: "ok" });
      assert.equal((await h.call("GET", "/auth/session", { key: null })).status, 401);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: null })).status, 401);
      assert.equal((await h.call("GET", `${A}/users`)).status, 200);
      const openapi = await h.call("GET", "/openapi.json", { key: null });
      assert.equal(openapi.status, 200);
      assert.ok(openapi.body.paths["/auth/providers"], "the sign-in page's endpoint is documented");
      // A path that merely starts like a console path is not one.
      assert.equal((await h.call("GET", "/accounts", { key: null })).status, 404);
    });

    test("the sign-in page's provider list names providers and start URLs, never issuers or secrets", async () => {
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: { displayName: "Corp SSO", oidcConfig: { issuerUrl: "https://login.corp.example", clientId: "hearth-client", clientSecret: "very-secret" } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      for (const path of ["/auth/providers", "/auth/providers?account=my-account"]) {
        const res = await h.call("GET", path, { key: null });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, {
          accountId: "my-account",
          identityProviders: [{ id: "corp", displayName: "Corp SSO", startUrl: "/auth/oidc/my-account/corp/start" }],
        });
        assert.doesNotMatch(JSON.stringify(res.body), /very-secret|hearth-client|login\.corp/);
      }
    });

    test("an unknown or malformed account lists no providers, exactly like an account without any", async () => {
      for (const account of ["no-such-account", "NOT_AN_ID"]) {
        const res = await h.call("GET", `/auth/providers?account=${account}`, { key: null });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { accountId: account, identityProviders: [] });
      }
    });
  });
}
