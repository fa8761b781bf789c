import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { BillingUsage } from "../src/http/resources/billing-usage.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import type { TestHearth } from "./support/hearth.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";
import { until } from "./support/until.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const BOT = "bot@my-account.sa.hearth.local";

/**
 * The usage dashboard in real headless Chromium, over usage metered for real: inference calls
 * through Hearth's gateway to a model server on loopback, by two principals on two models.
 */
describe("console usage dashboard in a browser", { timeout: 240_000 }, () => {
  let h: TestHearth;
  let stop: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let blocked: () => Promise<string[]>;

  /** The totals table under the chart: one row per series, [name, requests]. */
  const totals = async (): Promise<string[][]> =>
    (await page.locator(".usage-table tbody tr").allInnerTexts()).map((line) =>
      line
        .split("\t")
        .map((cell) => cell.trim())
        .slice(0, 2),
    );

  const check = (name: string) => checkPage(page, blocked, name);

  before(async () => {
    ensureConsoleBuilt();
    ({ h, stop } = await startPlatform("sqlite"));
    const bot = await serviceAccountWithKey(h, "bot", "contributor");
    const model = await h.call("POST", `${A}/models?modelId=tiny`, {
      body: { backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 0.5 },
    });
    assert.equal(model.status, 200, JSON.stringify(model.body));
    for (let i = 0; i < 3; i++) assert.equal((await infer(h, bot.key, chat("accounts/fireworks/models/tiny-public"))).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await infer(h, h.adminKey, chat(`${A.slice(4)}/models/tiny`))).status, 200);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    page = await context.newPage();
    blocked = await watchCsp(page);
    await page.goto((await createSigninLink(h.deps, h.accountId, "admin@example.com", h.baseUrl)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await stop?.();
  });

  test("GET billingUsage?groupBy=day,model answers one row per UTC day and model", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const res = await h.call("GET", `${A}/billingUsage?groupBy=day,model`, { key: h.adminKey });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const usage = res.body as BillingUsage;
    assert.deepEqual(
      usage.usage.map((u) => [u.day, u.model, u.requestCount, u.principal]),
      [
        [today, "accounts/fireworks/models/tiny-public", 3, undefined],
        [today, "accounts/my-account/models/tiny", 2, undefined],
      ],
    );
  });

  test("the dashboard charts today's requests stacked by model, with the range's totals and the monthly spend quota", async () => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Usage", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    await page.locator(".recharts-bar-rectangle").first().waitFor();
    // One stacked segment per model on today's bar; a legend entry each.
    assert.equal(await page.locator(".recharts-bar-rectangle path, path.recharts-rectangle").count(), 2);
    assert.deepEqual(await page.locator(".recharts-legend-item-text").allInnerTexts(), ["tiny-public", "tiny"]);
    assert.deepEqual(await totals(), [
      ["accounts/fireworks/models/tiny-public", "3"],
      ["accounts/my-account/models/tiny", "2"],
    ]);
    const api = (await h.call("GET", `${A}/billingUsage`, { key: h.adminKey })).body as BillingUsage;
    const stat = (name: string) => page.getByRole("article", { name }).locator(".usage-stat-value").innerText();
    assert.equal(await stat("Requests"), "5");
    assert.equal(await stat("Tokens"), String(api.total.totalTokens));
    assert.ok(api.total.costUsd > 0, "the calls cost something");
    const quota = page.getByRole("article", { name: "Monthly spend quota" });
    // The default quota: 1000 USD a month.
    assert.match(await quota.innerText(), /of \$1,000\.00 \(monthly-spend-usd\)/);
    assert.ok(await quota.getByRole("img", { name: /of \$1,000\.00 this month/ }).isVisible());
    await check("usage-by-model");
  });

  test("the switch stacks by principal and by API key; the measure switches to spend", async () => {
    await page.getByRole("button", { name: "By principal" }).click();
    await page.waitForURL(/by=principal/);
    await page.getByRole("cell", { name: BOT }).waitFor();
    assert.deepEqual(await totals(), [
      [BOT, "3"],
      ["admin@example.com", "2"],
    ]);
    await page.getByRole("button", { name: "By API key" }).click();
    await page.waitForURL(/by=apiKey/);
    await page.getByRole("columnheader", { name: "API key" }).waitFor();
    // The header can be drawn before the rows of the new grouping: wait for them, as for the principals above.
    const byKey = await until("the totals grouped by API key", async () => {
      const rows = await totals();
      return rows.length === 2 ? rows : undefined;
    });
    assert.equal(byKey.length, 2);
    await page.getByRole("button", { name: "Spend" }).click();
    await page.waitForURL(/metric=spend/);
    assert.equal(await page.getByRole("button", { name: "Spend" }).getAttribute("aria-pressed"), "true");
    // The value axis now counts dollars.
    await page.getByRole("heading", { name: "Spend per day, by API key" }).waitFor();
    assert.ok(
      (await page.locator(".usage-chart text").allTextContents()).some((tick) => tick.startsWith("$")),
      "the value axis counts dollars",
    );
    await check("usage-spend-by-key");
  });

  test("a custom range without usage says so; the range is whole UTC days", async () => {
    await page.getByLabel("Range").selectOption("custom");
    await page.getByLabel("From (UTC day)").fill("2020-01-01");
    await page.getByLabel("To (UTC day, included)").fill("2020-01-31");
    await page.getByRole("button", { name: "Show", exact: true }).click();
    await page.getByText("No usage in this range").waitFor();
    assert.equal(await page.getByRole("article", { name: "Requests" }).locator(".usage-stat-value").innerText(), "0");
    await check("usage-empty-range");
  });
});
