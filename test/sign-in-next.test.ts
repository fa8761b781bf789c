import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createSigninLink } from "../src/service/signin-links.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { human } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { isHearthCallback, startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";

/** Issue 13, item 3: each of these answered `302 Location: //evil.example/...` after sign-in. */
const REPRODUCTIONS = ["/.//evil.example/phish", "/..//evil.example", "/%2e//evil.example"];

/** More ways to dress up another site as a path. */
const VARIANTS = [
  "/\\evil.example",
  "/%5Cevil.example",
  "/%2F/evil.example",
  "/\t/evil.example",
  "/\n/evil.example",
  "https://evil.example",
  "javascript:alert(1)",
  "/./%2e%2e//evil.example",
  `/${"a".repeat(2000)}`,
];

const pathOf = (url: string): string => new URL(url).pathname;

for (const dialect of DIALECTS) {
  describe(`after sign-in, next never leads to another site (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;

    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { displayName: "Corp SSO", tenantDomains: ["corp.example"] }));
      await human(h, "alice@corp.example", "user");
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    /** Where a one-time link with `next` sends the browser. */
    async function linkLandsOn(next: string): Promise<string> {
      const link = await createSigninLink(h.deps, "my-account", "alice@corp.example");
      const res = await h.call("GET", `${pathOf(link.url)}?next=${encodeURIComponent(next)}`, { key: null });
      assert.equal(res.status, 302, JSON.stringify(res.body));
      return String(res.headers.location);
    }

    test("open redirect: a one-time link with next=/.//evil.example/phish, /..//evil.example or /%2e//evil.example goes to /", async () => {
      for (const next of REPRODUCTIONS) assert.equal(await linkLandsOn(next), "/", next);
      // As the reproduction sent it: the dots and the encoded dot unencoded in the query string.
      const link = await createSigninLink(h.deps, "my-account", "alice@corp.example");
      const raw = await h.call("GET", `${pathOf(link.url)}?next=/.//evil.example/phish`, { key: null });
      assert.equal(raw.headers.location, "/");
    });

    test("open redirect: backslashes, encoded slashes, tabs, schemes and very long next values go to /; a real page is kept", async () => {
      for (const next of VARIANTS.filter((v) => v.length <= 1024)) assert.equal(await linkLandsOn(next), "/", JSON.stringify(next));
      const link = await createSigninLink(h.deps, "my-account", "alice@corp.example");
      const long = await h.call("GET", `${pathOf(link.url)}?next=${encodeURIComponent(VARIANTS.at(-1)!)}`, { key: null });
      assert.equal(long.status, 400, "a next over 1024 characters is named as the problem");
      assert.match(long.body.error.message, /next/);
      assert.equal(await linkLandsOn("/account/users?filter=a"), "/account/users?filter=a");
    });

    test("open redirect: an identity-provider sign-in started with next=/.//evil.example/phish (and the other two) comes back to /", async () => {
      for (const next of [...REPRODUCTIONS, "/%5Cevil.example", "/\t/evil.example"]) {
        const browser = new Browser();
        const start = `${h.baseUrl}/auth/oidc/my-account/corp/start?next=${encodeURIComponent(next)}`;
        const callback = await followSignIn(browser, start, "alice@corp.example", isHearthCallback(h), FROM_HEARTH_PAGE);
        const res = await browser.request(callback);
        assert.equal(res.status, 302, await res.text());
        assert.equal(res.headers.get("location"), "/", JSON.stringify(next));
      }
      const browser = new Browser();
      const start = `${h.baseUrl}/auth/oidc/my-account/corp/start?next=${encodeURIComponent("/account/users")}`;
      const callback = await followSignIn(browser, start, "alice@corp.example", isHearthCallback(h), FROM_HEARTH_PAGE);
      assert.equal((await browser.request(callback)).headers.get("location"), "/account/users");
    });
  });
}
