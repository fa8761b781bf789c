import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Locator, Page } from "playwright-core";
import { setQuotaMax } from "../src/service/quotas.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human } from "./support/fixtures.ts";
import { setQuota, startPlatform } from "./support/platform.ts";
import type { TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";

const A = "/v1/accounts/my-account";

/**
 * Lists longer than a page in the console, in headless Chromium against a real Hearth: a service
 * account's API keys, the datasets page and a webhook's delivery log each go forward and back a
 * page at a time, a changed query starts again on its first page, and the delivery log narrows to
 * its failed deliveries; the deployment dialog suggests models from past the first 200; the identity
 * provider and webhook cards and the role dialog's permission presets show every one, past a page;
 * axe at each step.
 */
describe("console: paged lists in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let stop: () => Promise<void>;
  let base: string;
  let browser: Browser;
  let page: Page;
  let blocked: () => Promise<string[]>;

  const check = (name: string) => checkPage(page, blocked, name);

  /** Waits for `rows` to number `n`: a page's rows are replaced when its answer arrives, after the click. */
  const rowCount = (rows: Locator, n: number) => until(`${n} rows`, async () => ((await rows.count()) === n ? true : undefined), 10_000);

  /** The rows of the table captioned `caption`, without its header row. */
  const bodyRows = (caption: string) => page.getByRole("table", { name: caption }).locator("tbody tr");

  before(async () => {
    ensureConsoleBuilt();
    // A platform (a backend and public models on loopback) for the deployments to run.
    ({ h, stop } = await startPlatform(
      "sqlite",
      {},
      { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "20" },
    ));
    base = h.baseUrl;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, reducedMotion: "reduce" });
    page = await context.newPage();
    blocked = await watchCsp(page);
    await page.goto((await createSigninLink(h.deps, h.accountId, "admin@example.com", base)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await stop?.();
  });

  test("a service account's 51 API keys: 50 on the first page, the last on the next, and back", async () => {
    // The default quota is 10 keys a principal; an account whose operator raised it needs the pages.
    await setQuotaMax(h.deps.store, h.accountId, "api-keys-per-user", 100);
    await setQuota(h, h.accountId, "api-keys-per-user", 100, h.adminKey);
    assert.equal((await h.call("POST", `${A}/users?userId=many-keys`, { body: { serviceAccount: true, role: "user" } })).status, 200);
    for (let i = 0; i < 51; i++) {
      const made = await h.call("POST", `${A}/users/many-keys/apiKeys`, { body: { apiKey: { displayName: `key ${String(i).padStart(2, "0")}` } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    }
    await page.goto(`${base}/account/users/many-keys`);
    const keys = bodyRows("API keys of many-keys@my-account.sa.hearth.local");
    await page.getByText("51 keys").waitFor();
    await rowCount(keys, 50);
    await check("paging-01-keys-first-page");
    await page.getByRole("button", { name: "Next" }).click();
    await rowCount(keys, 1);
    assert.ok(await page.getByRole("button", { name: "Next" }).isDisabled());
    await page.getByRole("button", { name: "Previous" }).click();
    await rowCount(keys, 50);
  });

  test("the datasets page goes to the next page and back (it had no way back)", async () => {
    for (let i = 0; i < 51; i++) {
      const made = await h.call("POST", `${A}/datasets?datasetId=set-${String(i).padStart(2, "0")}`, { body: { dataset: { displayName: `set ${i}` } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    }
    await page.goto(`${base}/account/datasets`);
    await page.getByText("51 datasets").waitFor();
    const rows = page.locator("table tbody tr");
    await rowCount(rows, 50);
    assert.ok(await page.getByRole("button", { name: "Previous" }).isDisabled());
    await page.getByRole("button", { name: "Next" }).click();
    await rowCount(rows, 1);
    await check("paging-02-datasets-second-page");
    await page.getByRole("button", { name: "Previous" }).click();
    await rowCount(rows, 50);
  });

  test("on the deployments page's second page, 'Show deleted' goes back to the first page: a page token belongs to its query", async () => {
    await setQuotaMax(h.deps.store, h.accountId, "deployments", 100);
    await setQuota(h, h.accountId, "deployments", 100, h.adminKey);
    for (let i = 0; i < 51; i++) {
      const made = await h.call("POST", `${A}/deployments?deploymentId=dep-${String(i).padStart(2, "0")}`, {
        body: { baseModel: "accounts/fireworks/models/tiny-public" },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    }
    await page.goto(`${base}/account/deployments`);
    const rows = page.locator("table tbody tr");
    await page.getByText("51 deployments").waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    await rowCount(rows, 1);
    await page.getByRole("checkbox", { name: "Show deleted" }).check();
    await rowCount(rows, 50);
    assert.ok(await page.getByRole("button", { name: "Previous" }).isDisabled(), "on the first page");
    assert.equal(await page.getByRole("alert").count(), 0, "no refusal of a page token from the other query");
  });

  test("the deployment dialog suggests the account's models matching what is typed, past the first 200 (it listed only those)", async () => {
    // More models than the default quota of 100: raised as an operator would.
    await setQuotaMax(h.deps.store, "my-account", "models", 300);
    for (let i = 0; i < 205; i++) {
      const made = await h.call("POST", `${A}/models?modelId=model-${String(i).padStart(3, "0")}`, {
        body: { model: { backend: "local", displayName: `Model ${i}` } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    }
    await page.goto(`${base}/account/deployments`);
    await page.getByRole("button", { name: "Create deployment" }).click();
    const field = page.getByRole("dialog", { name: "Create deployment" }).getByLabel("Base model");
    const suggested = page.locator("#deployment-models option");
    // Read at once: the options are replaced as answers arrive.
    const values = () => suggested.evaluateAll((options) => options.map((o) => o.getAttribute("value") ?? ""));
    await field.fill("model-204");
    await until("model-204 to be suggested", async () => ((await values()).includes(`${A.slice(4)}/models/model-204`) ? true : undefined));
    // A full name being typed matches by its last segment; a display name matches too.
    await field.fill(`${A.slice(4)}/models/model-20`);
    await until("model-200 … model-204 to be suggested", async () => {
      const shown = await values();
      return shown.length === 5 && shown[0] === `${A.slice(4)}/models/model-200` ? true : undefined;
    });
    await field.fill("Model 203");
    await until("the model named Model 203", async () => ((await values()).join() === `${A.slice(4)}/models/model-203` ? true : undefined));
    await check("paging-05-deployment-model-suggestions");
    await page.keyboard.press("Escape");
  });

  test("a webhook's delivery log pages 20 at a time, and 'Failed only' shows the failed delivery", async () => {
    let answer = 200;
    const receiver = await startReceiver(() => answer);
    try {
      const made = await h.call("POST", `${A}/webhooks?webhookId=bulk`, { body: { displayName: "Bulk", url: receiver.url, events: ["principal.created"] } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      for (let i = 0; i < 21; i++) await human(h, `bulk-${i}@example.com`, "user");
      await receiver.waitFor(21);
      // One more that the receiver refuses; disabling the webhook fails it for good.
      answer = 500;
      await human(h, "bulk-failed@example.com", "user");
      await receiver.waitFor(22);
      assert.equal((await h.call("PATCH", `${A}/webhooks/bulk?updateMask=state`, { body: { state: "DISABLED" } })).status, 200);
      await until("the refused delivery to fail", async () => {
        const failed = await h.call("GET", `${A}/webhooks/bulk/deliveries?filter=${encodeURIComponent('state="FAILED"')}`);
        return failed.body.webhookDeliveries?.length === 1 ? true : undefined;
      });

      await page.goto(`${base}/account/webhooks?webhook=bulk`);
      const log = bodyRows("Deliveries to Bulk");
      await page.getByText("22 deliveries").waitFor();
      await rowCount(log, 20);
      await page.getByRole("button", { name: "Older" }).click();
      await rowCount(log, 2);
      await check("paging-03-delivery-log-older");
      await page.getByRole("button", { name: "Newer" }).click();
      await rowCount(log, 20);

      await page.getByRole("checkbox", { name: "Failed only" }).check();
      await page.getByText("1 delivery", { exact: true }).waitFor();
      await rowCount(log, 1);
      assert.match(await log.first().innerText(), /FAILED/);
      assert.equal(await page.getByRole("button", { name: "Older" }).count(), 0, "one page: no pager");
      await check("paging-04-delivery-log-failed");
    } finally {
      await receiver.close();
    }
  });

  test("identity providers, webhooks and permission presets past one page (201 each): the console shows every one", async () => {
    // Above their default quotas (20, 20, 100), raised as an operator would: the console listed the first 100.
    const n = 201;
    // Room for each list's 201 beside what earlier tests made (the delivery log's webhook).
    for (const [quota, path, body] of [
      [
        "identity-providers",
        "identityProviders?identityProviderId",
        (id: string) => ({ displayName: id, oidcConfig: { issuerUrl: "https://login.example.com", clientId: id } }),
      ],
      ["webhooks", "webhooks?webhookId", (id: string) => ({ displayName: id, url: "https://hooks.example.com/in", events: ["principal.created"] })],
      ["permission-presets", "permissionPresets?permissionPresetId", (id: string) => ({ displayName: id, actions: ["models.list"] })],
    ] as const) {
      await setQuotaMax(h.deps.store, h.accountId, quota, n + 10);
      for (let i = 0; i < n; i++) {
        const id = `many-${String(i).padStart(3, "0")}`;
        const made = await h.call("POST", `${A}/${path}=${id}`, { body: body(id) });
        assert.equal(made.status, 200, JSON.stringify(made.body));
      }
    }
    const cards = page.locator("main article.card");
    for (const where of ["identity-providers", "webhooks"]) {
      await page.goto(`${base}/account/${where}`);
      await page.getByRole("heading", { level: 2, name: "many-200" }).waitFor();
      assert.equal(await cards.filter({ has: page.getByRole("heading", { level: 2, name: /^many-\d{3}$/ }) }).count(), n, where);
    }
    await check("paging-06-webhooks-past-one-page");
    await page.goto(`${base}/account/users`);
    await page.getByRole("button", { name: "Change role of admin@example.com" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("radio", { name: /custom/ }).check();
    const presets = dialog.getByLabel("Permission preset").locator("option");
    await until(`${n} presets to be offered`, async () => ((await presets.count()) === n ? true : undefined));
    assert.equal(await presets.last().getAttribute("value"), "many-200");
    await page.keyboard.press("Escape");
  });
});
