import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human } from "./support/fixtures.ts";
import type { TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, screenshot, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const GOOD = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}\n{"messages":[{"role":"user","content":"Bye"}]}\n';
const BAD_LINE = '{"prompt":"a completion line in a chat dataset"}';

interface Visit {
  context: BrowserContext;
  page: Page;
  blocked: () => Promise<string[]>;
}

/**
 * The models, deployments and datasets pages in real headless Chromium against a real Hearth whose
 * backends are a model server on loopback ("local") and a closed port ("nowhere"): everything is
 * done with the mouse and keyboard and checked against the API afterwards.
 */
describe("console models, deployments and datasets pages in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let stop: () => Promise<void>;
  let browser: Browser;
  let admin: Visit;
  let dir: string;

  async function signIn(email: string): Promise<Visit> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce", acceptDownloads: true });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    await page.goto((await createSigninLink(h.deps, h.accountId, email, h.baseUrl)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    return { context, page, blocked };
  }

  const check = (visit: Visit, name: string) => checkPage(visit.page, visit.blocked, name);

  const row = (page: Page, text: string) => page.getByRole("row").filter({ hasText: text });
  const open = async (page: Page, name: string) => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
  };

  before(async () => {
    ensureConsoleBuilt();
    ({ h, stop } = await startPlatform("sqlite"));
    await human(h, "carol@example.com", "contributor");
    await human(h, "ivy@example.com", "inference-user");
    dir = mkdtempSync(join(tmpdir(), "console-datasets-"));
    browser = await launchChromium();
    admin = await signIn("admin@example.com");
  });
  after(async () => {
    await browser?.close();
    await stop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an admin creates a model, sees it READY, and edits its name and prices", async () => {
    const { page } = admin;
    await open(page, "Models");
    await page.getByRole("button", { name: "Create model" }).click();
    const dialog = page.getByRole("dialog", { name: "Create model" });
    await dialog.getByLabel("Model ID").fill("tiny");
    await dialog.getByLabel("Backend").fill("local");
    await dialog.getByLabel("Upstream model").fill("tiny-upstream");
    await dialog.getByLabel("Input price").fill("0.5");
    await check(admin, "platform-01-create-model");
    await dialog.getByRole("button", { name: "Create model" }).click();
    await dialog.waitFor({ state: "detached" });
    const tiny = row(page, "accounts/my-account/models/tiny");
    await tiny.waitFor();
    assert.match(await tiny.innerText(), /READY/);
    assert.equal((await h.call("GET", `${A}/models/tiny`)).body.inputPricePerMillionTokens, 0.5);

    await tiny.getByRole("button", { name: "Edit model tiny" }).click();
    const edit = page.getByRole("dialog", { name: "Edit model tiny" });
    await edit.getByLabel("Display name").fill("Tiny v2");
    await edit.getByLabel("Output price").fill("1.25");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await row(page, "Tiny v2").waitFor();
    const saved = (await h.call("GET", `${A}/models/tiny`)).body;
    assert.deepEqual([saved.displayName, saved.outputPricePerMillionTokens, saved.backend], ["Tiny v2", 1.25, "local"]);

    await page.getByLabel("Search by ID or name").fill("nothing-like-it");
    await page.getByText("No model matches").waitFor();
    await page.getByLabel("Search by ID or name").fill("tin");
    await row(page, "Tiny v2").waitFor();
    await check(admin, "platform-02-models");
  });

  test("deployments show their state, a failure's reason, replica settings and scale; edit, scale, delete and restore work", async () => {
    const far = await h.call("POST", `${A}/models?modelId=far`, { body: { backend: "nowhere" } });
    assert.equal(far.status, 200, JSON.stringify(far.body));
    const { page } = admin;
    await open(page, "Deployments");
    for (const [id, model] of [
      ["dep", "accounts/my-account/models/tiny"],
      ["broken", "accounts/my-account/models/far"],
    ] as const) {
      await page.getByRole("button", { name: "Create deployment" }).click();
      const dialog = page.getByRole("dialog", { name: "Create deployment" });
      await dialog.getByLabel("Deployment ID").fill(id);
      await dialog.getByLabel("Base model").fill(model);
      await dialog.getByLabel("Maximum replicas").fill("3");
      await dialog.getByRole("button", { name: "Create deployment" }).click();
      await dialog.waitFor({ state: "detached" });
      await row(page, `accounts/my-account/deployments/${id}`).waitFor();
    }
    const dep = row(page, "accounts/my-account/deployments/dep");
    const broken = row(page, "accounts/my-account/deployments/broken");
    assert.match(await dep.innerText(), /READY/);
    assert.match(await broken.innerText(), /FAILED/);
    const reason = (await h.call("GET", `${A}/deployments/broken`)).body.status.message;
    assert.ok(reason.length > 0, "the API gives a reason");
    assert.equal(await broken.locator(".failure-reason").innerText(), reason);
    assert.match(await dep.innerText(), /0\s*\(0–3\)/);
    await check(admin, "platform-03-deployments");

    await page.getByLabel("State").selectOption("FAILED");
    await dep.waitFor({ state: "detached" });
    assert.equal(await broken.count(), 1);
    await page.getByLabel("State").selectOption("");
    await dep.waitFor();

    await dep.getByRole("button", { name: "Scale deployment dep" }).click();
    const scale = page.getByRole("dialog", { name: "Scale deployment dep" });
    await scale.getByLabel("Replicas").fill("2");
    await scale.getByRole("button", { name: "Scale" }).click();
    await scale.waitFor({ state: "detached" });
    await dep.filter({ hasText: /2\s*\(0–3\)/ }).waitFor();
    assert.equal((await h.call("GET", `${A}/deployments/dep`)).body.replicaCount, 2);

    await dep.getByRole("button", { name: "Edit deployment dep" }).click();
    const edit = page.getByRole("dialog", { name: "Edit deployment dep" });
    await edit.getByLabel("Display name").fill("Production");
    await edit.getByLabel("Minimum replicas").fill("1");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await row(page, "Production").waitFor();
    const edited = (await h.call("GET", `${A}/deployments/dep`)).body;
    assert.deepEqual([edited.displayName, edited.minReplicaCount, edited.maxReplicaCount], ["Production", 1, 3]);

    await broken.getByRole("button", { name: "Delete deployment broken" }).click();
    const del = page.getByRole("dialog", { name: "Delete deployment broken?" });
    await del.getByText(/restorable/).waitFor();
    await del.getByRole("button", { name: "Delete deployment" }).click();
    await broken.waitFor({ state: "detached" });
    assert.equal((await h.call("GET", `${A}/deployments/broken`)).body.state, "DELETED");
    await page.getByLabel("Show deleted").check();
    await broken.filter({ hasText: "DELETED" }).waitFor();
    await broken.getByRole("button", { name: "Restore deployment broken" }).click();
    await broken.filter({ hasText: "FAILED" }).waitFor();
    assert.notEqual((await h.call("GET", `${A}/deployments/broken`)).body.state, "DELETED");
    await check(admin, "platform-04-deployments-restored");

    // Serving options set through the API (firectl's --precision, --region, ...) show in the row,
    // and editing the deployment in the console keeps them.
    const tuned = await h.call("POST", `${A}/deployments?deploymentId=tuned`, {
      body: {
        baseModel: "accounts/my-account/models/tiny",
        precision: "FP8",
        placement: { multiRegion: "US" },
        enableAddons: true,
        draftModel: "accounts/my-account/models/tiny",
        draftTokenCount: 4,
        autoTune: { longPrompt: true },
        maxContextLength: 32768,
      },
    });
    assert.equal(tuned.status, 200, JSON.stringify(tuned.body));
    await page.reload();
    const tunedRow = row(page, "accounts/my-account/deployments/tuned");
    await tunedRow.waitFor();
    assert.equal(await tunedRow.getByTitle("Serving options").innerText(), "FP8 · US · add-ons · draft tiny × 4 tokens · long prompt · 32,768-token context");
    assert.equal(await dep.getByTitle("Serving options").count(), 0, "a deployment with none shows none");
    await tunedRow.getByRole("button", { name: "Edit deployment tuned" }).click();
    const editTuned = page.getByRole("dialog", { name: "Edit deployment tuned" });
    await editTuned.getByLabel("Display name").fill("Tuned");
    await editTuned.getByRole("button", { name: "Save" }).click();
    await editTuned.waitFor({ state: "detached" });
    const kept = (await h.call("GET", `${A}/deployments/tuned`)).body;
    assert.deepEqual(
      [kept.displayName, kept.precision, kept.placement, kept.draftTokenCount, kept.maxContextLength],
      ["Tuned", "FP8", { multiRegion: "US" }, 4, 32768],
    );
  });

  test("a dataset upload shows its progress; a refused one names and shows the first invalid line; the good file uploads, downloads, is renamed and is deleted", async () => {
    const bad = join(dir, "bad.jsonl");
    const good = join(dir, "train.jsonl");
    writeFileSync(bad, `${GOOD.split("\n")[0]}\n${BAD_LINE}\n`);
    writeFileSync(good, GOOD);
    const { page } = admin;
    await open(page, "Datasets");
    await page.getByRole("button", { name: "Create dataset" }).click();
    const dialog = page.getByRole("dialog", { name: "Create dataset" });
    await dialog.getByLabel("Dataset ID").fill("greetings");
    await dialog.getByLabel("JSONL file").setInputFiles(bad);
    await dialog.getByRole("button", { name: "Create and upload" }).click();
    const refusal = dialog.getByRole("alert");
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /line 2 is not a CHAT example/);
    assert.equal(await dialog.getByLabel("Line 2 of the file").innerText(), BAD_LINE);
    const progress = dialog.locator("progress");
    assert.equal(Number(await progress.getAttribute("value")), Number(await progress.getAttribute("max")), "the whole file was sent");
    assert.ok(Number(await progress.getAttribute("max")) > 0);
    await check(admin, "platform-05-dataset-refused-line");

    await dialog.getByLabel("JSONL file").setInputFiles(good);
    await dialog.getByRole("button", { name: "Upload again" }).click();
    await dialog.waitFor({ state: "detached" });
    const greetings = row(page, "accounts/my-account/datasets/greetings");
    await greetings.filter({ hasText: "READY" }).waitFor();
    const api = (await h.call("GET", `${A}/datasets/greetings`)).body;
    assert.deepEqual([api.state, api.exampleCount, api.sizeBytes], ["READY", "2", String(Buffer.byteLength(GOOD))]);

    const downloading = page.waitForEvent("download");
    await greetings.getByRole("link", { name: "Download dataset greetings" }).click();
    const download = await downloading;
    assert.equal(download.suggestedFilename(), "greetings.jsonl");
    assert.equal(readFileSync((await download.path())!, "utf8"), GOOD);
    await check(admin, "platform-06-datasets");

    await greetings.getByRole("button", { name: "Edit dataset greetings" }).click();
    const edit = page.getByRole("dialog", { name: "Edit dataset greetings" });
    await edit.getByLabel("Display name").fill("Greetings, reviewed");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await greetings.filter({ hasText: "Greetings, reviewed" }).waitFor();
    assert.equal((await h.call("GET", `${A}/datasets/greetings`)).body.displayName, "Greetings, reviewed");

    await greetings.getByRole("button", { name: "Delete dataset greetings" }).click();
    const del = page.getByRole("dialog", { name: "Delete dataset greetings?" });
    await del.getByText(/2, 1\d\d bytes/).waitFor();
    await del.getByRole("button", { name: "Delete dataset" }).click();
    await greetings.waitFor({ state: "detached" });
    assert.equal((await h.call("GET", `${A}/datasets/greetings`)).status, 404);
  });

  test("at a phone's width the models, deployments, datasets and usage pages fit the screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, reducedMotion: "reduce" });
    const page = await phone.newPage();
    await page.goto((await createSigninLink(h.deps, h.accountId, "admin@example.com", h.baseUrl)).url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    for (const [path, heading] of [
      ["/account/models", "Models"],
      ["/account/deployments", "Deployments"],
      ["/account/datasets", "Datasets"],
      ["/account/usage", "Usage"],
    ] as const) {
      await page.goto(`${h.baseUrl}${path}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await page.waitForLoadState("networkidle");
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
      assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the screen`);
    }
    await screenshot(page, "platform-09-usage-phone");
    await phone.close();
  });

  test("a contributor changes only what it created; an inference-user creates nothing", async () => {
    const carol = await signIn("carol@example.com");
    await open(carol.page, "Models");
    const tiny = row(carol.page, "accounts/my-account/models/tiny");
    await tiny.waitFor();
    assert.equal(await tiny.getByRole("button").count(), 0, "another's model: no edit or delete");
    await carol.page.getByRole("button", { name: "Create model" }).click();
    const dialog = carol.page.getByRole("dialog", { name: "Create model" });
    await dialog.getByLabel("Model ID").fill("carols");
    await dialog.getByLabel("Backend").fill("local");
    await dialog.getByRole("button", { name: "Create model" }).click();
    await dialog.waitFor({ state: "detached" });
    const mine = row(carol.page, "accounts/my-account/models/carols");
    await mine.getByRole("button", { name: "Delete model carols" }).click();
    await carol.page.getByRole("dialog", { name: "Delete model carols?" }).getByRole("button", { name: "Delete model" }).click();
    await mine.waitFor({ state: "detached" });
    assert.equal((await h.call("GET", `${A}/models/carols`)).status, 404);
    await open(carol.page, "Deployments");
    await row(carol.page, "accounts/my-account/deployments/dep").waitFor();
    assert.equal(await row(carol.page, "accounts/my-account/deployments/dep").getByRole("button").count(), 0);
    await check(carol, "platform-07-deployments-contributor");
    await carol.context.close();

    const ivy = await signIn("ivy@example.com");
    for (const [page, create] of [
      ["Models", "Create model"],
      ["Deployments", "Create deployment"],
      ["Datasets", "Create dataset"],
    ] as const) {
      await open(ivy.page, page);
      await ivy.page.waitForLoadState("networkidle");
      assert.equal(await ivy.page.getByRole("button", { name: create }).count(), 0, `${page}: an inference-user creates nothing`);
    }
    await check(ivy, "platform-08-datasets-inference-user");
    await ivy.context.close();
  });
});
