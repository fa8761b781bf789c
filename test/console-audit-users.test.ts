import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { createSigninLink } from "../src/service/signin-links.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const SA = "release-deployer-production";
const SA_EMAIL = `${SA}@my-account.sa.hearth.local`;

/**
 * How many lines an element's text takes, measured in the page: its height over its line height
 * (a `normal` line height counts as 1.2 × the font size, as browsers lay it out for common fonts).
 */
function linesOf(locator: Locator): Promise<number> {
  // Runs in the page; this file is type-checked without the DOM library, hence the loose types.
  return locator.evaluate((el: any) => {
    const style = (globalThis as any).getComputedStyle(el);
    const lineHeight = style.lineHeight === "normal" ? 1.2 * parseFloat(style.fontSize) : parseFloat(style.lineHeight);
    return Math.round(el.getBoundingClientRect().height / lineHeight);
  });
}

/** The users table and the audit log at a laptop's 1280 px, read as a person reads them. */
describe("console users table and audit log readability in a browser", { timeout: 240_000 }, () => {
  let h: TestHearth;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let blocked: () => Promise<string[]>;

  const check = (name: string) => checkPage(page, blocked, name);
  const row = (text: string) => page.getByRole("row").filter({ hasText: text });

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite");
    await h.listen();
    const { key } = await serviceAccountWithKey(h, SA, "user");
    assert.equal((await h.call("POST", `${A}/users/${SA}/apiKeys`, { body: { apiKey: { displayName: "second" } } })).status, 200);
    // A long method name in the log, and a use of the key (its last activity).
    const idp = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
      body: {
        displayName: "Corp SSO",
        oidcConfig: { issuerUrl: "https://login.corp.example", clientId: "hearth", clientSecret: "s3cret" },
        tenantDomains: ["corp.example"],
      },
    });
    assert.equal(idp.status, 200, JSON.stringify(idp.body));
    // The service account acts itself (an audited change: a key of its own), which is also its last activity.
    const own = await fetch(`${h.baseUrl}${A}/users/${SA}/apiKeys`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ apiKey: { displayName: "its own" } }),
    });
    assert.equal(own.status, 200);
    // Key uses are written behind (HEARTH_LAST_USED_FLUSH_MS is 50 in tests): wait until the API shows it.
    for (let i = 0; i < 100 && !(await h.call("GET", `${A}/users/${SA}`)).body.lastActiveTime; i++) await new Promise((r) => setTimeout(r, 50));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    page = await context.newPage();
    blocked = await watchCsp(page);
    await page.goto((await createSigninLink(h.deps, h.accountId, "admin@example.com", h.baseUrl)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  test("the users table shows each principal's key count and last activity; a service account's email stays on one line", async () => {
    const api = (await h.call("GET", `${A}/users/${SA}`)).body;
    assert.equal(api.apiKeyCount, 3);
    assert.ok(api.lastActiveTime, "the key's use is its last activity");
    const sa = row(SA_EMAIL);
    await sa.waitFor();
    assert.equal(await sa.getByRole("cell").nth(2).innerText(), "3");
    assert.match(await sa.getByRole("cell").nth(3).innerText(), /^(just now|\d+ \w+ ago)\ncreated /);
    assert.match(await row("admin@example.com").getByRole("cell").nth(3).innerText(), /now|ago/, "the admin's session is activity");
    const email = sa.locator(".principal-email");
    assert.equal(await email.innerText(), SA_EMAIL);
    await check("readable-01-users");
    assert.equal(await linesOf(email), 1, "the service account's email wraps");
    assert.ok(await email.evaluate((el: any) => el.scrollWidth <= el.clientWidth), "the whole email shows");
    assert.ok(
      await page.evaluate<boolean>(`(() => { const card = document.querySelector(".table-card"); return card.scrollWidth <= card.clientWidth })()`),
      "the table fits",
    );
  });

  test("'Clear filters' resets the type, role and search together", async () => {
    await page.getByRole("button", { name: "Service accounts" }).click();
    await page.getByLabel("Role", { exact: true }).selectOption("user");
    await page.getByLabel("Search by email, name or ID").fill("release");
    await page.waitForURL(/q=release/);
    await row(SA_EMAIL).waitFor();
    assert.equal(await row("admin@example.com").count(), 0);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.waitForURL((url) => url.pathname === "/account/users" && url.search === "");
    await row("admin@example.com").waitFor();
    assert.equal(await page.getByLabel("Search by email, name or ID").inputValue(), "");
    assert.equal(await page.getByRole("button", { name: "All", exact: true }).getAttribute("aria-pressed"), "true");
    assert.equal(await page.getByRole("button", { name: "Clear filters" }).count(), 0);
  });

  test("the audit log shows methods and service-account emails on one line and times to the second; principals are searched by prefix", async () => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit log", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await row("CreateIdentityProvider").waitFor();
    const methods = page.locator(".audit-table code.method");
    assert.ok((await methods.count()) >= 4);
    for (const method of await methods.all()) assert.equal(await linesOf(method), 1, `${await method.innerText()} wraps`);
    for (const time of await page.locator(".audit-table time").allInnerTexts()) assert.match(time, /\d:\d\d:\d\d/, `${time} has seconds`);

    await page.getByLabel("Principal starts with").fill("release-dep");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/principal=release-dep/);
    await row("admin@example.com").first().waitFor({ state: "detached" });
    const principals = await page.locator(".audit-table .principal-cell").allInnerTexts();
    assert.ok(principals.length > 0, "the service account's entries");
    assert.ok(
      principals.every((p) => p === SA_EMAIL),
      principals.join(", "),
    );
    for (const email of await page.locator(".audit-table .principal-text").all()) assert.equal(await linesOf(email), 1, "a service account's email wraps");
    assert.ok(
      await page.evaluate<boolean>(
        `(() => { const card = document.querySelector(".audit-table").parentElement; return card.scrollWidth <= card.clientWidth })()`,
      ),
      "the audit table fits at 1280 px",
    );
    const exportCsv = page.getByRole("link", { name: "Export CSV" });
    const href = new URL((await exportCsv.getAttribute("href"))!, h.baseUrl);
    assert.equal(href.pathname, `${A}/auditLogs:export`);
    assert.equal(href.searchParams.get("format"), "csv");
    assert.match(href.searchParams.get("filter") ?? "", /principal>="release-dep"/);
    assert.ok(href.searchParams.get("startTime"), "the time range goes with the export");
    await check("readable-02-audit-prefix");
    await page.getByRole("button", { name: "Reset" }).click();
    await row("CreateIdentityProvider").waitFor();
  });

  test("an entry's resource links to its page; its details open in a drawer that Escape closes", async () => {
    const creation = row("CreateUser").filter({ hasText: `accounts/my-account/users/${SA}` });
    await creation.getByRole("button", { name: /Details/ }).click();
    const drawer = page.getByRole("dialog", { name: /^CreateUser · / });
    await drawer.waitFor();
    assert.match(await drawer.getByLabel("Payload of CreateUser").innerText(), /"serviceAccount": true/);
    assert.match(await drawer.innerText(), /admin@example\.com/);
    await check("readable-03-audit-drawer");
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });

    await creation.getByRole("link", { name: `accounts/my-account/users/${SA}` }).click();
    await page.waitForURL(`${h.baseUrl}/account/users/${SA}`);
    await page.getByText(SA_EMAIL).first().waitFor();
  });
});
