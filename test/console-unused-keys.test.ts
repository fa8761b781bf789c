import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ManualClock } from "../src/domain/clock.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human, serviceAccountWithKey } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { describeViolations, ensureConsoleBuilt, launchChromium, screenshot, seriousViolations, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const DAY = 86_400_000;

/**
 * The console's "Unused keys" view in real headless Chromium against a real Hearth (SQLite), with
 * the server's clock moved on 100 days: what an admin sees, the one-click disable checked against
 * the API, and what a non-admin is shown.
 */
describe("unused keys in the console", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let base: string;
  let browser: Browser;
  const clock = new ManualClock();
  const made: Record<string, { key: string; keyId: string }> = {};

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page; blocked: () => Promise<string[]> }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, reducedMotion: "reduce" });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    const link = await createSigninLink(h.deps, h.accountId, email, base);
    await page.goto(link.url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    return { context, page, blocked };
  }

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite", {}, { clock });
    base = await h.listen();
    for (const id of ["stale-bot", "busy-bot"]) made[id] = await serviceAccountWithKey(h, id);
    await human(h, "dana@example.com", "user");
    clock.advance(100 * DAY);
    assert.equal((await h.call("GET", "/verifyApiKey", { key: made["busy-bot"]!.key })).status, 200);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  test("an admin sees the keys unused for 90 days and disables one with one click", async () => {
    const visit = await signIn("admin@example.com");
    const { page } = visit;
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Unused keys", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Unused keys" }).waitFor();
    const stale = page.getByRole("row").filter({ hasText: "stale-bot@" });
    await stale.waitFor();
    assert.match(await stale.innerText(), /Never/);
    assert.equal(await page.getByRole("row").filter({ hasText: "busy-bot@" }).count(), 0, "a key used today is not listed");

    await page.waitForLoadState("networkidle");
    await screenshot(page, "unused-keys");
    const violations = await seriousViolations(page);
    assert.equal(violations.length, 0, describeViolations(violations));

    await stale.getByRole("button", { name: /^Disable key .* of stale-bot@/ }).click();
    await page
      .getByText(/disabled\.$/)
      .first()
      .waitFor();
    const key = await h.call("GET", `${A}/users/stale-bot/apiKeys/${made["stale-bot"]!.keyId}`);
    assert.equal(key.body.state, "DISABLED");
    assert.equal(key.body.disableReason, "UNUSED");
    await stale.getByText("Disabled (unused)").waitFor();
    assert.equal((await h.call("GET", "/verifyApiKey", { key: made["stale-bot"]!.key })).status, 401);

    // A longer period leaves nothing: the keys were made 100 days ago.
    await page.getByLabel("Unused for more than").selectOption("180");
    await page.getByText("No key unused for more than 180 days").waitFor();
    assert.match(page.url(), /days=180/);
    assert.deepEqual(await visit.blocked(), []);
    await visit.context.close();
  });

  test("a non-admin is not offered the view", async () => {
    const visit = await signIn("dana@example.com");
    const nav = visit.page.getByRole("navigation", { name: "Console" });
    await nav.getByRole("link", { name: "Users", exact: true }).waitFor();
    assert.equal(await nav.getByRole("link", { name: "Unused keys" }).count(), 0);
    await visit.context.close();
  });
});
