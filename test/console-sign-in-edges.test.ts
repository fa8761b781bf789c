import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human } from "./support/fixtures.ts";
import type { TestHearth } from "./support/hearth.ts";
import { startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";
import { describeViolations, ensureConsoleBuilt, launchChromium, screenshot, seriousViolations, watchCsp } from "./support/console.ts";

const LAPTOP = { width: 1280, height: 860 };

/**
 * The edges of signing in to the console, in real headless Chromium against a real Hearth and a
 * real OpenID provider on loopback: a signed-out deep link comes back to where it pointed, and a
 * refused one-time link gets a page that looks like the console (and obeys its CSP).
 */
describe("console sign-in edges in a browser", { timeout: 240_000 }, () => {
  let h: TestHearth;
  let issuer: TestIssuer;
  let browser: Browser;

  before(async () => {
    ensureConsoleBuilt();
    ({ h, issuer } = await startHearthWithIdentityProvider("sqlite", { displayName: "Corp SSO", tenantDomains: ["corp.example"] }));
    await human(h, "alice@corp.example", "admin");
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
    await issuer?.close();
  });

  test("a signed-out deep link goes to sign-in, keeps its destination through choosing an account, and lands on it after the provider", async () => {
    const context = await browser.newContext({ viewport: LAPTOP, reducedMotion: "reduce" });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    const deepLink = "/account/usage?range=30d&by=principal";
    await page.goto(`${h.baseUrl}${deepLink}`);
    await page.waitForURL((url) => url.pathname === "/signin");
    assert.equal(new URL(page.url()).searchParams.get("next"), deepLink);
    const notice = page.getByRole("status").filter({ hasText: "Sign in to continue" });
    await notice.waitFor();
    assert.match(await notice.innerText(), /Sign in to continue to \/account\/usage\?range=30d&by=principal/);

    // Choosing the account on the page must not drop where the person was going.
    await page.getByRole("button", { name: "Another account" }).click();
    await page.getByLabel("Account ID").fill("my-account");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL((url) => url.searchParams.get("account") === "my-account");
    assert.equal(new URL(page.url()).searchParams.get("next"), deepLink);
    const corp = page.getByRole("link", { name: "Continue with Corp SSO" });
    await corp.waitFor();
    assert.equal(await corp.getAttribute("href"), `/auth/oidc/my-account/corp/start?next=${encodeURIComponent(deepLink)}`);
    await screenshot(page, "sign-in-to-continue");
    const violations = await seriousViolations(page);
    assert.equal(violations.length, 0, describeViolations(violations));

    // The provider's own login and consent pages (oidc-provider's development interactions).
    await corp.click();
    await page.locator('input[name="login"]').fill("alice@corp.example");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((url) => url.origin === issuer.issuer && url.pathname.includes("interaction"));
    await page.locator('button[type="submit"]').click();

    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    const landed = new URL(page.url());
    assert.equal(landed.origin, h.baseUrl);
    assert.equal(landed.pathname + landed.search, deepLink);
    assert.equal(await page.getByRole("button", { name: "By principal" }).getAttribute("aria-pressed"), "true");
    assert.deepEqual(await blocked(), []);
    await context.close();
  });

  test("a used one-time link gets a refusal page in the console's style: its stylesheet, not the browser's Times, and nothing blocked by the CSP", async () => {
    const link = await createSigninLink(h.deps, h.accountId, "alice@corp.example", h.baseUrl);
    const first = await browser.newContext({ viewport: LAPTOP });
    await (await first.newPage()).goto(link.url);
    await first.close();

    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    const res = await page.goto(link.url);
    assert.ok(res && res.status() >= 400 && res.status() < 500, `a refusal, not ${res?.status()}`);
    assert.match(res.headers()["content-security-policy"] ?? "", /style-src 'self'/);
    await page.getByRole("heading", { level: 1, name: "Sign-in failed" }).waitFor();
    const font = await page.evaluate<string>("getComputedStyle(document.body).fontFamily");
    assert.doesNotMatch(font, /^"?Times/i, `the body font is the console's, not ${font}`);
    assert.equal(await page.evaluate<number>("document.styleSheets.length"), 1);
    assert.equal(await page.evaluate<number>("document.querySelectorAll('[style], style').length"), 0, "no inline style");
    const back = page.getByRole("link", { name: "Back to sign-in" });
    assert.equal(await back.getAttribute("href"), "/signin");
    await screenshot(page, "sign-in-refused-link");
    const violations = await seriousViolations(page);
    assert.equal(violations.length, 0, describeViolations(violations));
    assert.deepEqual(await blocked(), []);
    await back.click();
    await page.getByRole("heading", { level: 1, name: "Sign in to the console" }).waitFor();
    await context.close();
  });
});
