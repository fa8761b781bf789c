import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { human } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, signInToConsole, type Visit } from "./support/console.ts";
import { startReceiver } from "./support/webhook-receiver.ts";

/**
 * The console's Settings page in headless Chromium: an admin sets the key policy (a refused value
 * shows the API's sentence and changes nothing), switches data-access entries on, verifies the
 * audit chain (and sees the broken link after an entry is edited in the database), and streams the
 * log to a webhook receiver on loopback through an audit sink; a `user` only reads the key policy.
 * Every result is checked against the API, with no serious accessibility violation (axe).
 */
describe("console: settings page in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let browser: Browser;
  let admin: Visit;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const A = () => `/v1/accounts/${h.accountId}`;

  const signIn = (email: string): Promise<Visit> => signInToConsole(browser, h, email, "Settings");

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite", { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "20" });
    await h.listen();
    receiver = await startReceiver();
    browser = await launchChromium();
    admin = await signIn("admin@example.com");
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
    await receiver?.close();
  });

  test("an admin sets the key policy in days, is told why a default longer than the maximum is refused, and removes the maximum", async () => {
    const { page } = admin;
    const card = page.getByRole("region", { name: "API key policy" });
    await card.getByText("may never expire").waitFor();
    await checkPage(page, admin.blocked, "settings-01-defaults");

    await card.getByRole("button", { name: "Edit policy" }).click();
    await page.getByLabel("Longest lifetime (days)").fill("90");
    await page.getByLabel("Default lifetime (days)").fill("30");
    await page.getByRole("checkbox", { name: /People's keys must expire/ }).check();
    await page.getByRole("dialog").getByRole("button", { name: "Save policy" }).click();
    await card.getByText("90 days").waitFor();
    let policy = (await h.call("GET", `${A()}/keyPolicy`)).body;
    assert.equal(policy.maxKeyLifetime, "7776000s");
    assert.equal(policy.defaultKeyLifetime, "2592000s");
    assert.equal(policy.requireExpiryForHumanKeys, true);

    await card.getByRole("button", { name: "Edit policy" }).click();
    await page.getByLabel("Longest lifetime (days)").fill("10");
    await page.getByRole("dialog").getByRole("button", { name: "Save policy" }).click();
    await page
      .getByRole("dialog")
      .getByRole("alert")
      .getByText(/defaultKeyLifetime/)
      .waitFor();
    await checkPage(page, admin.blocked, "settings-02-policy-refused");
    assert.deepEqual((await h.call("GET", `${A()}/keyPolicy`)).body, policy);

    await page.getByLabel("Longest lifetime (days)").fill("");
    await page.getByRole("dialog").getByRole("button", { name: "Save policy" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    policy = (await h.call("GET", `${A()}/keyPolicy`)).body;
    assert.equal(policy.maxKeyLifetime, undefined);
    assert.equal(policy.defaultKeyLifetime, "2592000s");
    await card.getByText("30 days").waitFor();
  });

  test("an admin switches data-access entries on and verifies the chain, which then shows an entry edited in the database", async () => {
    const { page } = admin;
    const card = page.getByRole("region", { name: "Audit log" });
    await card.getByRole("button", { name: "Switch data-access entries on" }).click();
    await card.getByRole("button", { name: "Switch data-access entries off" }).waitFor();
    assert.equal((await h.call("GET", `${A()}/auditSettings`)).body.dataAccessLogs, true);

    await card.getByRole("button", { name: "Verify the chain" }).click();
    const holds = await card.getByText(/^The chain holds: \d+ entries and \d+ signed checkpoints verified\.$/).innerText();
    assert.ok(Number(/(\d+) entries/.exec(holds)![1]) >= 5, holds);
    await checkPage(page, admin.blocked, "settings-03-verified");

    const victim = await h.deps.store.db.selectFrom("audit_logs").select("id").where("method", "=", "UpdateKeyPolicy").executeTakeFirstOrThrow();
    await h.deps.store.db.updateTable("audit_logs").set({ message: "nothing happened here" }).where("id", "=", victim.id).execute();
    await card.getByRole("button", { name: "Verify the chain" }).click();
    await card
      .getByText(`The chain is broken at entry ${victim.id} (EDITED): its message column no longer matches its hashed fields.`, { exact: false })
      .waitFor();
    await checkPage(page, admin.blocked, "settings-04-broken");
  });

  test("an admin streams the log to a webhook through an audit sink, sees what was delivered, and deletes the sink", async () => {
    const { page } = admin;
    const hook = await h.call("POST", `${A()}/webhooks?webhookId=siem-hook`, { body: { url: receiver.url, events: ["principal.created"] } });
    assert.equal(hook.status, 200, JSON.stringify(hook.body));
    const card = page.getByRole("region", { name: "Audit sinks" });
    await card.getByText("No audit sink").waitFor();
    await card.getByRole("button", { name: "Add sink" }).click();
    await page.getByLabel("ID", { exact: true }).fill("siem");
    await page.getByLabel(/Display name/).fill("SIEM");
    await page.getByLabel("Webhook", { exact: true }).selectOption(`accounts/${h.accountId}/webhooks/siem-hook`);
    await checkPage(page, admin.blocked, "settings-05-add-sink");
    await page.getByRole("dialog").getByRole("button", { name: "Add sink" }).click();
    await card.getByRole("heading", { level: 3, name: /SIEM/ }).waitFor();

    await receiver.waitFor(1);
    assert.equal(JSON.parse(receiver.received[0]!.body).type, "audit.entry");
    let delivered = 0;
    for (let i = 0; i < 100 && delivered === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      delivered = (await h.call("GET", `${A()}/auditSinks/siem`)).body.deliveredCount;
    }
    assert.ok(delivered > 0);
    await page.reload();
    const shown = Number((await card.getByRole("definition").nth(1).innerText()).replaceAll(",", ""));
    assert.ok(shown >= delivered, `shown ${shown}, delivered ${delivered}`);
    await checkPage(page, admin.blocked, "settings-06-sink");

    await card.getByRole("button", { name: "Delete SIEM" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete siem" }).click();
    await card.getByText("No audit sink").waitFor();
    assert.equal((await h.call("GET", `${A()}/auditSinks/siem`)).status, 404);
  });

  test("a user reads the key policy and is offered no change and no audit settings", async () => {
    await human(h, "una@example.com", "user");
    const una = await signIn("una@example.com");
    await una.page.getByRole("region", { name: "API key policy" }).getByText("30 days").waitFor();
    assert.equal(await una.page.getByRole("button", { name: "Edit policy" }).count(), 0);
    assert.equal(await una.page.getByRole("region", { name: "Audit log" }).count(), 0);
    assert.equal(await una.page.getByRole("region", { name: "Audit sinks" }).count(), 0);
    await checkPage(una.page, una.blocked, "settings-07-read-only");
    await una.context.close();
  });
});
