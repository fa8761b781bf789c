import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";
import { startReceiver } from "./support/webhook-receiver.ts";

/**
 * The console's webhooks page in headless Chromium: an admin adds a webhook (its secret shown once),
 * sees the delivery log with each attempt's response code, redelivers by hand, rotates the secret
 * (both secrets sign for the grace period), disables and deletes it, with no serious accessibility
 * violation (axe) at each step.
 */
describe("console: webhooks page in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let base: string;
  let browser: Browser;
  let page: Page;
  let blocked: () => Promise<string[]>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const check = (name: string) => checkPage(page, blocked, name);

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite", { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "20" });
    base = await h.listen();
    receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, reducedMotion: "reduce" });
    page = await context.newPage();
    blocked = await watchCsp(page);
    await page.goto((await createSigninLink(h.deps, h.accountId, "admin@example.com", base)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
    await receiver?.close();
  });

  test("an admin adds a webhook, copies its secret once, reads the delivery log, redelivers and rotates the secret", async () => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Webhooks", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
    await check("webhooks-01-empty");

    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.getByLabel("ID").fill("alerts");
    await page.getByLabel("Display name").fill("Alerts");
    await page.getByLabel("URL").fill(receiver.url);
    await page.getByRole("checkbox", { name: /principal\.created/ }).check();
    await check("webhooks-02-add-dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Add webhook" }).click();
    const secretBox = page.getByLabel("Signing secret of “Alerts”");
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    assert.match(secret, /^whsec_/);
    await check("webhooks-03-secret");
    await page.getByRole("button", { name: "I have copied it" }).click();
    assert.doesNotMatch(await page.content(), /whsec_/);

    const made = await h.call("GET", "/v1/accounts/my-account/webhooks/alerts");
    assert.deepEqual(made.body.events, ["principal.created"]);
    await human(h, "kim@example.com", "user");
    await receiver.waitFor(2);
    assert.equal((new Webhook(secret).verify(receiver.received[1]!.body, receiver.received[1]!.headers) as any).data.email, "kim@example.com");

    await page.getByRole("button", { name: "Delivery log of Alerts" }).click();
    const row = page.getByRole("row").filter({ hasText: "principal.created" });
    // The log shows what was recorded when it loaded: refreshed, as a person would, until the retry is in it.
    for (let i = 0; i < 100 && !/500, 200/.test(await row.innerText({ timeout: 200 }).catch(() => "")); i++) {
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.waitForLoadState("networkidle");
    }
    assert.match(await row.innerText(), /SUCCEEDED/);
    await check("webhooks-04-delivery-log");

    await row.getByRole("button", { name: /^Redeliver principal\.created/ }).click();
    await receiver.waitFor(3);
    assert.equal(receiver.received[2]!.headers["webhook-id"], receiver.received[0]!.headers["webhook-id"]);

    await page.getByRole("button", { name: "Rotate secret of Alerts" }).click();
    await page.getByLabel("Old secret also signs for").selectOption("3600s");
    await check("webhooks-05-rotate-dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Rotate secret" }).click();
    await secretBox.waitFor();
    const rotated = await secretBox.inputValue();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.getByText("Old secret signs until").waitFor();
    await check("webhooks-06-rotated");
    await human(h, "lee@example.com", "user");
    await receiver.waitFor(4);
    for (const s of [secret, rotated])
      assert.equal((new Webhook(s).verify(receiver.received[3]!.body, receiver.received[3]!.headers) as any).data.email, "lee@example.com");

    await page.getByRole("button", { name: "Disable Alerts" }).click();
    await page.getByRole("button", { name: "Enable Alerts" }).waitFor();
    assert.equal((await h.call("GET", "/v1/accounts/my-account/webhooks/alerts")).body.state, "DISABLED");
    await page.getByRole("button", { name: "Delete Alerts" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete alerts" }).click();
    await page.getByText("No webhook yet").waitFor();
    assert.equal((await h.call("GET", "/v1/accounts/my-account/webhooks/alerts")).status, 404);
  });
});
