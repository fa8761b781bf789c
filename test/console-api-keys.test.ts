import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createSigninLink } from "../src/service/signin-links.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const SA = "key-bot";
const DAY = 24 * 3_600_000;

/**
 * The API-keys section of the console in real headless Chromium against a real listening Hearth:
 * a key created with restrictions, disabled with a reason, enabled, rotated (the new secret shown
 * once), the address it was last used from, and an expired key's date; checked against the API and
 * with axe at each step.
 */
describe("API keys in the console", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let blocked: () => Promise<string[]>;
  let secret = "";

  const check = (name: string) => checkPage(page, blocked, name);

  const row = (text: string) => page.getByRole("row").filter({ hasText: text });
  const keysOf = async () => (await h.call("GET", `${A}/users/${SA}/apiKeys`)).body.apiKeys as any[];
  const keyNamed = async (name: string) => (await keysOf()).find((k) => k.displayName === name);

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite");
    base = await h.listen();
    assert.equal((await h.call("POST", `${A}/users?userId=${SA}`, { body: { serviceAccount: true, displayName: "Key bot", role: "user" } })).status, 200);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 860 }, reducedMotion: "reduce" });
    page = await context.newPage();
    blocked = await watchCsp(page);
    const link = await createSigninLink(h.deps, h.accountId, "admin@example.com", base);
    await page.goto(link.url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    await page.goto(`${base}/account/users/${SA}`);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  test("a key is created with restrictions, and its secret shown once", async () => {
    await page.getByRole("button", { name: "Create API key" }).click();
    const create = page.getByRole("dialog", { name: /New API key for Key bot/ });
    await create.getByLabel("Name").fill("deploy");
    await create.getByText("Restrictions (optional)").click();
    await create.getByLabel("Scopes").fill("models.list, inference.run");
    await create.getByLabel("Allowed models").fill("accounts/fireworks/models/*");
    await create.getByLabel("Allowed networks").fill("127.0.0.0/8, ::1/128");
    await create.getByLabel("Requests per minute").fill("30");
    await create.getByLabel("Monthly spend (USD)").fill("12.5");
    await check("keys-01-create-with-restrictions");
    await create.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByRole("dialog", { name: "Copy your new API key" });
    secret = await shown.getByLabel(/API key “deploy”/).inputValue();
    assert.match(secret, /^hk_/);
    await shown.getByRole("button", { name: "I have copied it" }).click();
    await row("deploy").waitFor();

    const made = await keyNamed("deploy");
    assert.deepEqual(made.scopes, ["models.list", "inference.run"]);
    assert.deepEqual(made.allowedModels, ["accounts/fireworks/models/*"]);
    assert.deepEqual(made.allowedCidrs, ["127.0.0.0/8", "::1/128"]);
    assert.equal(made.rpm, 30);
    assert.equal(made.monthlySpendUsd, 12.5);
    assert.equal(made.state, "ENABLED");
  });

  test("a refused restriction is shown as the API's sentence, in the dialog", async () => {
    await page.getByRole("button", { name: "Create API key" }).click();
    const create = page.getByRole("dialog", { name: /New API key for Key bot/ });
    await create.getByText("Restrictions (optional)").click();
    await create.getByLabel("Allowed networks").fill("300.1.2.3/8");
    await create.getByRole("button", { name: "Create key" }).click();
    await create.getByText(/allowedCidrs/).waitFor();
    await create.getByRole("button", { name: "Cancel" }).click();
    assert.equal((await keysOf()).length, 1);
  });

  test("the address a key was last used from is shown", async () => {
    const res = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}`, "user-agent": "deploy-script/2.0" } });
    assert.equal(res.status, 200);
    await page.reload();
    const cell = row("deploy").getByText(/from 127\.0\.0\.1/);
    await cell.waitFor();
    assert.equal(await cell.getAttribute("title"), "deploy-script/2.0");
  });

  test("disable with a reason, then enable", async () => {
    await page.getByRole("button", { name: /^Disable API key deploy/ }).click();
    const dialog = page.getByRole("dialog", { name: /Disable the API key “deploy”/ });
    await dialog.getByRole("radio", { name: /Compromised/ }).check();
    await check("keys-02-disable");
    await dialog.getByRole("button", { name: "Disable key" }).click();
    await dialog.waitFor({ state: "detached" });
    await row("deploy").getByText("Disabled: Compromised").waitFor();
    const off = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(off.status, 401);
    assert.match(((await off.json()) as any).error.message, /reason COMPROMISED/);
    assert.equal((await keyNamed("deploy")).disableReason, "COMPROMISED");
    await check("keys-03-disabled");

    await page.getByRole("button", { name: /^Enable API key deploy/ }).click();
    await row("deploy").getByText("Disabled: Compromised").waitFor({ state: "detached" });
    assert.equal((await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}` } })).status, 200);
  });

  test("rotate: the new secret is shown once with a copy button; the old key is revoked at once", async () => {
    await page.getByRole("button", { name: /^Rotate API key deploy/ }).click();
    const dialog = page.getByRole("dialog", { name: /Rotate the API key “deploy”/ });
    await dialog.getByLabel("Old key keeps working for").selectOption("0s");
    await check("keys-04-rotate");
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    const shown = page.getByRole("dialog", { name: "Copy your new API key" });
    await shown.getByText(/The old key .* is revoked/).waitFor();
    const next = await shown.getByLabel(/API key “deploy”/).inputValue();
    assert.notEqual(next, secret);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await shown.getByRole("button", { name: "Copy" }).click();
    await shown.getByText("Copied", { exact: true }).waitFor();
    assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), next);
    await check("keys-05-rotated-secret");
    await shown.getByRole("button", { name: "I have copied it" }).click();

    assert.equal((await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}` } })).status, 401);
    assert.equal((await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${next}` } })).status, 200);
    const keys = await keysOf();
    assert.equal(keys.length, 2);
    const successor = keys.find((k) => k.prefix === next.slice(0, k.prefix.length))!;
    assert.deepEqual(successor.scopes, ["models.list", "inference.run"], "the successor keeps the restrictions");
    await page.reload();
    assert.ok(!(await page.content()).includes(next), "the secret is not shown again");
  });

  test("the create dialog offers only the expiries the account's key policy allows", async () => {
    assert.equal((await h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "2592000s" } })).status, 200);
    try {
      await page.getByRole("button", { name: "Create API key" }).click();
      const create = page.getByRole("dialog", { name: /New API key for Key bot/ });
      await create.getByText("The account’s key policy: a key lives at most 30 days.").waitFor();
      const options = await create.getByLabel("Expires").locator("option").allInnerTexts();
      assert.deepEqual(options, ["In 30 days", "On a date…"]);
      await create.getByLabel("Name").fill("bounded");
      await check("keys-06-policy");
      await create.getByRole("button", { name: "Create key" }).click();
      await page.getByRole("dialog", { name: "Copy your new API key" }).getByRole("button", { name: "I have copied it" }).click();
      const made = await keyNamed("bounded");
      assert.ok(Math.abs(Date.parse(made.expireTime) - (Date.now() + 30 * DAY)) < 3_600_000, made.expireTime);
    } finally {
      await h.call("PATCH", `${A}/keyPolicy?updateMask=maxKeyLifetime`, { body: {} });
    }
  });

  test("an expired key shows its expiry date and state", async () => {
    const soon = new Date(Date.now() + DAY).toISOString();
    assert.equal((await h.call("POST", `${A}/users/${SA}/apiKeys`, { body: { apiKey: { displayName: "short-lived", expireTime: soon } } })).status, 200);
    // The browser's clock moves two days on: the key has expired as the page sees it.
    await page.clock.install({ time: new Date(Date.now() + 2 * DAY) });
    await page.reload();
    const expired = row("short-lived");
    await expired.getByText("Expired", { exact: true }).waitFor();
    const time = expired.locator("time").nth(1);
    assert.equal(await time.getAttribute("datetime"), soon);
    assert.match(await expired.innerText(), /Expired on/);
    await check("keys-07-expired");
  });

  test("at a phone's width the keys and their actions fit the screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole("button", { name: /^Rotate API key deploy/ }).waitFor();
    assert.ok(await page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling");
    await check("keys-08-phone");
  });
});
