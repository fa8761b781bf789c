import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createSigninLink } from "../src/service/signin-links.ts";
import { CONSOLE_CSP } from "../src/http/console.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { human, otherAccount } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import {
  createIdentityProvider,
  hearthCallback,
  isHearthCallback,
  startHearthWithIdentityProvider,
  startIssuer,
  type TestIssuer,
} from "./support/oidc-issuer.ts";

const B = "other-account";
const B_START = `/auth/oidc/${B}/b-sso/start`;

/** The account and email the browser's session cookie stands for, or undefined when none. */
async function whoIs(h: TestHearth, browser: Browser): Promise<{ accountId: string; email: string } | undefined> {
  const res = await browser.request(`${h.baseUrl}/auth/session`);
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { accountId: string; email: string };
  return { accountId: body.accountId, email: body.email };
}

/** The one-time token of the account-switch page's form. */
function formToken(html: string): string {
  const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(html)?.[1];
  assert.ok(token, html);
  return token;
}

for (const dialect of DIALECTS) {
  describe(`a sign-in cannot silently move a signed-in person to another account (${dialect})`, () => {
    let h: TestHearth;
    let issuerA: TestIssuer;
    let issuerB: TestIssuer;

    /** A browser signed in to my-account as alice through a one-time link opened from mail. */
    async function aliceInA(): Promise<Browser> {
      const browser = new Browser();
      const link = await createSigninLink(h.deps, "my-account", "alice@corp.example", h.baseUrl);
      const res = await browser.request(link.url);
      assert.equal(res.status, 302);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      return browser;
    }

    /** Runs B's sign-in (started the legitimate way) in `browser` up to Hearth's callback; returns its response. */
    async function signInToB(browser: Browser): Promise<Response> {
      const start = `${h.baseUrl}${B_START}?next=${encodeURIComponent("/account/users")}`;
      const callback = await followSignIn(browser, start, "mallory@evil.example", isHearthCallback(h), FROM_HEARTH_PAGE);
      return browser.request(callback, { headers: { accept: "text/html" } });
    }

    function answer(browser: Browser, token: string, choice: string, headers: Record<string, string> = { origin: h.baseUrl }): Promise<Response> {
      return browser.request(`${h.baseUrl}/auth/switch`, {
        method: "POST",
        body: new URLSearchParams({ token, choice }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      });
    }

    before(async () => {
      ({ h, issuer: issuerA } = await startHearthWithIdentityProvider(dialect, { displayName: "Corp SSO", tenantDomains: ["corp.example"] }));
      issuerB = await startIssuer({ redirectUris: [hearthCallback(h, B, "b-sso")] });
      await human(h, "alice@corp.example", "user");
      // Account B belongs to the attacker, whose provider approves anyone of its domain silently.
      const bAdmin = await otherAccount(h, B);
      const fieldsB = { displayName: "B SSO", tenantDomains: ["evil.example"], enableJitUserProvisioning: true };
      await createIdentityProvider(h, issuerB, fieldsB, { accountId: B, identityProviderId: "b-sso", key: bAdmin });
    });
    after(async () => {
      await h.stop();
      await issuerA.close();
      await issuerB.close();
    });

    test("login CSRF: a link from another site (or a mail) to account B's /auth/oidc/B/<idp>/start is refused and A's session stays", async () => {
      const browser = await aliceInA();
      const refusals: Array<[string, Record<string, string>]> = [
        ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }],
        ["Sec-Fetch-Site: same-site", { "sec-fetch-site": "same-site" }],
        ["Sec-Fetch-Site: none (opened from a mail or typed in)", { "sec-fetch-site": "none" }],
        ["no Fetch Metadata and no Referer", {}],
        ["no Fetch Metadata and another site's Referer", { referer: "https://evil.example/lure" }],
      ];
      for (const [what, headers] of refusals) {
        const res = await browser.request(`${h.baseUrl}${B_START}`, { headers });
        assert.equal(res.status, 403, what);
        assert.equal(res.headers.get("location"), null, what);
        assert.match(((await res.json()) as any).error.message, /must begin on Hearth's sign-in page/, what);
        assert.equal(browser.cookie(h.baseUrl, "hearth_oidc"), undefined, `${what}: no sign-in begins`);
      }
      // A person's browser gets the refusal as a page with the way back.
      const page = await browser.request(`${h.baseUrl}${B_START}`, { headers: { "sec-fetch-site": "cross-site", accept: "text/html" } });
      assert.equal(page.status, 403);
      assert.match(await page.text(), /href="\/signin"/);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      assert.equal(issuerB.tokenRequests(), 0, "B's provider was never reached");

      // What a click on Hearth's own sign-in page sends is accepted (and, from a browser without
      // Fetch Metadata, a Referer of Hearth's origin).
      const clicked = await browser.request(`${h.baseUrl}${B_START}`, { headers: FROM_HEARTH_PAGE });
      assert.equal(clicked.status, 302);
      assert.ok(clicked.headers.get("location")!.startsWith(issuerB.issuer));
      const oldBrowser = await new Browser().request(`${h.baseUrl}${B_START}`, { headers: { referer: `${h.baseUrl}/signin?account=${B}` } });
      assert.equal(oldBrowser.status, 302);
      // firectl's start is opened by the command line (Sec-Fetch-Site: none) and still works.
      const cli = new URL(`${h.baseUrl}/auth/cli/${B}/b-sso/start`);
      cli.search = new URLSearchParams({
        redirect_uri: "http://127.0.0.1:9/callback",
        state: "s".repeat(16),
        code_challenge: "c".repeat(43),
        code_challenge_method: "S256",
      }).toString();
      assert.equal((await new Browser().request(cli.href, { headers: { "sec-fetch-site": "none" } })).status, 302);
    });

    test("login CSRF: a sign-in to account B over a session in A asks, naming both; Stay keeps A and discards B", async () => {
      const browser = await aliceInA();
      const res = await signInToB(browser);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/html/);
      assert.equal(res.headers.get("content-security-policy"), CONSOLE_CSP, "the console's strict policy: no inline script or style");
      assert.equal(
        res.headers.getSetCookie().some((c) => c.startsWith("hearth_session=")),
        false,
        "the session is not replaced",
      );
      const html = await res.text();
      assert.doesNotMatch(html, /<script|<style|style=/);
      assert.match(html, /signed in to account <strong>my-account<\/strong> as <strong>alice@corp\.example<\/strong>/);
      assert.match(html, /for account <strong>other-account<\/strong> as <strong>mallory@evil\.example<\/strong>/);
      assert.match(html, /<button type="submit" name="choice" value="switch">Switch to other-account<\/button>/);
      assert.match(html, /<button type="submit" name="choice" value="stay">Stay in my-account<\/button>/);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });

      const stay = await answer(browser, formToken(html), "stay");
      assert.equal(stay.status, 303);
      assert.equal(stay.headers.get("location"), "/");
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      const again = await answer(browser, formToken(html), "switch");
      assert.equal(again.status, 400, "the answer is used up");
      assert.match(((await again.json()) as any).error.message, /no account switch is waiting/);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
    });

    test("login CSRF: Switch to B needs the page's token and Hearth's origin, then ends A's session and enters B", async () => {
      const browser = await aliceInA();
      const aCookie = browser.cookie(h.baseUrl, "hearth_session")!;
      const html = await (await signInToB(browser)).text();
      const token = formToken(html);
      // Another site's form cannot answer for the person: it has no token, or the wrong origin.
      const forged = await answer(browser, "x".repeat(43), "switch");
      assert.equal(forged.status, 403);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });

      const html2 = await (await signInToB(browser)).text();
      const crossSite = await answer(browser, formToken(html2), "switch", { origin: "https://evil.example" });
      assert.equal(crossSite.status, 403);
      assert.match(((await crossSite.json()) as any).error.message, /cross-site/);
      assert.notEqual(formToken(html2), token);

      const html3 = await (await signInToB(browser)).text();
      const bad = await answer(browser, formToken(html3), "maybe");
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as any).error.message, /choice/);

      const html4 = await (await signInToB(browser)).text();
      const switched = await answer(browser, formToken(html4), "switch");
      assert.equal(switched.status, 303);
      assert.equal(switched.headers.get("location"), "/account/users");
      assert.deepEqual(await whoIs(h, browser), { accountId: B, email: "mallory@evil.example" });
      const old = await fetch(`${h.baseUrl}/auth/session`, { headers: { cookie: `hearth_session=${aCookie}` } });
      assert.equal(old.status, 401, "A's session ended with the switch");
    });

    test("login CSRF: a one-time link for account B opened over a session in A asks the same way; without a session it signs in", async () => {
      await human(h, "carol@corp.example", "user");
      const bLink = await createSigninLink(h.deps, B, `admin@${B}.example`, h.baseUrl);
      const browser = await aliceInA();
      const res = await browser.request(`${bLink.url}?next=${encodeURIComponent("/account/users")}`, { headers: { accept: "text/html" } });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /Switch to other-account/);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      const switched = await answer(browser, formToken(html), "switch");
      assert.equal(switched.headers.get("location"), "/account/users");
      assert.deepEqual(await whoIs(h, browser), { accountId: B, email: `admin@${B}.example` });

      // A fresh browser: no question.
      const fresh = new Browser();
      const link = await createSigninLink(h.deps, B, `admin@${B}.example`, h.baseUrl);
      assert.equal((await fresh.request(link.url)).status, 302);
      assert.deepEqual(await whoIs(h, fresh), { accountId: B, email: `admin@${B}.example` });
    });

    test("reproduction: a colleague's link opened over a session in the same account asks too, naming both emails, instead of silently making you them", async () => {
      await human(h, "dave@corp.example", "user");
      const browser = await aliceInA();
      const dave = await createSigninLink(h.deps, "my-account", "dave@corp.example", h.baseUrl);
      const res = await browser.request(dave.url, { headers: { accept: "text/html" } });
      assert.equal(res.status, 200, "asked, not entered");
      const html = await res.text();
      assert.match(html, /<button type="submit" name="choice" value="switch">Switch to my-account as dave@corp\.example<\/button>/);
      assert.match(html, /<button type="submit" name="choice" value="stay">Stay in my-account as alice@corp\.example<\/button>/);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      assert.equal((await answer(browser, formToken(html), "stay")).status, 303);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
    });

    test("reproduction: signing in again as the same person ends the session the browser had, rather than leaving it valid", async () => {
      const browser = await aliceInA();
      const before = browser.cookie(h.baseUrl, "hearth_session")!;
      const again = await createSigninLink(h.deps, "my-account", "alice@corp.example", h.baseUrl);
      assert.equal((await browser.request(again.url)).status, 302, "the same person: no question");
      assert.notEqual(browser.cookie(h.baseUrl, "hearth_session"), before);
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      const old = await fetch(`${h.baseUrl}/auth/session`, { headers: { cookie: `hearth_session=${before}` } });
      assert.equal(old.status, 401, "the replaced session ended");
    });

    test("regression (fuzzer): the switch page's form with a field given twice, or one it does not have, is a 400 and the browser stays where it was", async () => {
      await human(h, "erin@corp.example", "user");
      const browser = await aliceInA();
      const erin = await createSigninLink(h.deps, "my-account", "erin@corp.example", h.baseUrl);
      const token = formToken(await (await browser.request(erin.url, { headers: { accept: "text/html" } })).text());
      // Before, the last "choice" decided silently (here: switch), and an unknown field was dropped.
      const refusals: Array<[string, RegExp]> = [
        [`token=${token}&choice=stay&choice=switch`, /^invalid form: field "choice" is given more than once$/],
        [`token=${token}&token=${token}&choice=switch`, /^invalid form: field "token" is given more than once$/],
        [`token=${token}&choice=switch&next=%2Faccount`, /^invalid form: .*"next"/],
      ];
      for (const [body, message] of refusals) {
        const res = await browser.request(`${h.baseUrl}/auth/switch`, {
          method: "POST",
          body,
          headers: { "content-type": "application/x-www-form-urlencoded", origin: h.baseUrl },
        });
        assert.equal(res.status, 400, body);
        assert.match(((await res.json()) as any).error.message, message);
        assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
      }
      assert.equal((await answer(browser, token, "stay")).status, 303, "the page's own answer is served");
      assert.deepEqual(await whoIs(h, browser), { accountId: "my-account", email: "alice@corp.example" });
    });

    test("reproduction: a refused answer to the switch page (a forged token) is audited in the account of the browser's session", async () => {
      const browser = await aliceInA();
      await signInToB(browser);
      const forged = await answer(browser, "y".repeat(43), "switch");
      assert.equal(forged.status, 403);
      const entries = (await h.call("GET", `/v1/accounts/my-account/auditLogs?filter=${encodeURIComponent('method="SwitchAccount"')}`)).body.auditLogs;
      assert.ok(entries.length >= 1, "the refusal is audited");
      assert.equal(entries[0].principal, "alice@corp.example");
      assert.equal(entries[0].status.code, "PERMISSION_DENIED");
    });
  });
}
