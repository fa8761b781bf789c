import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { ACTION_NAMES, can } from "../src/domain/actions.ts";
import { human } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, signInToConsole, type Visit } from "./support/console.ts";

const contributor = ACTION_NAMES.filter((a) => can("contributor", a));

/**
 * The console's permission presets page in headless Chromium: an admin builds a "team lead" preset
 * from a role plus one action, narrows it by a whole group, is told why a held preset cannot be
 * deleted; a custom role that may manage presets cannot tick an action it lacks; a `user` only
 * reads. Every result is checked against the API, with no serious accessibility violation (axe).
 */
describe("console: permission presets page in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let browser: Browser;
  let admin: Visit;

  const signIn = (email: string): Promise<Visit> => signInToConsole(browser, h, email, "Permission presets");

  const preset = async (id: string) => (await h.call("GET", `/v1/accounts/${h.accountId}/permissionPresets/${id}`)).body;

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite");
    await h.listen();
    browser = await launchChromium();
    admin = await signIn("admin@example.com");
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  test("an admin builds a team-lead preset from the contributor role plus one action, then narrows it by a whole group", async () => {
    const { page } = admin;
    await page.getByText("No permission preset yet").waitFor();
    await checkPage(page, admin.blocked, "presets-01-empty");

    await page.getByRole("button", { name: "Create preset" }).click();
    await page.getByLabel("ID", { exact: true }).fill("team-lead");
    await page.getByLabel(/Display name/).fill("Team lead");
    await page.getByLabel("Add the actions of role").selectOption("contributor");
    await page.getByRole("button", { name: "Add contributor's actions" }).click();
    await page.getByRole("checkbox", { name: /apiKeys\.createForServiceAccount/ }).check();
    await page.getByText(`${contributor.length + 1} of ${ACTION_NAMES.length} actions chosen.`).waitFor();
    await checkPage(page, admin.blocked, "presets-02-create-dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Create preset" }).click();
    await page.getByRole("heading", { level: 2, name: "Team lead" }).waitFor();

    const made = await preset("team-lead");
    assert.equal(made.displayName, "Team lead");
    assert.deepEqual([...made.actions].sort(), [...contributor, "apiKeys.createForServiceAccount"].sort());
    assert.equal(await page.getByRole("list", { name: "Actions of Team lead" }).getByRole("listitem").count(), made.actions.length);
    await checkPage(page, admin.blocked, "presets-03-list");

    await page.getByRole("button", { name: "Edit Team lead" }).click();
    // The contributor holds some datasets actions: the group's box is mixed, ticks the whole group, then clears it.
    const datasets = page.getByRole("checkbox", { name: "Every datasets action" });
    assert.equal(await datasets.evaluate((box) => (box as unknown as { indeterminate: boolean }).indeterminate), true);
    await datasets.check();
    await datasets.uncheck();
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    const narrowed = await preset("team-lead");
    assert.deepEqual(
      narrowed.actions.filter((a: string) => a.startsWith("datasets.")),
      [],
    );
    assert.ok(narrowed.actions.includes("apiKeys.createForServiceAccount"));
    assert.equal(narrowed.actions.length, made.actions.length - contributor.filter((a) => a.startsWith("datasets.")).length);
  });

  test("deleting a preset someone holds shows the API's refusal, and goes through once nobody holds it", async () => {
    const { page } = admin;
    const lead = await h.call("POST", `/v1/accounts/${h.accountId}/users`, {
      body: { email: "lee@example.com", role: "custom", permissionPreset: "team-lead" },
    });
    assert.equal(lead.status, 200, JSON.stringify(lead.body));

    await page.getByRole("button", { name: "Delete Team lead" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete team-lead" }).click();
    await page
      .getByRole("dialog")
      .getByText(/is in use/)
      .waitFor();
    assert.equal((await preset("team-lead")).name, `accounts/${h.accountId}/permissionPresets/team-lead`);
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

    const moved = await h.call("PATCH", `/v1/accounts/${h.accountId}/users/${lead.body.name.split("/").pop()}`, { body: { role: "user" } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    await page.getByRole("button", { name: "Delete Team lead" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete team-lead" }).click();
    await page.getByText("No permission preset yet").waitFor();
    assert.equal((await h.call("GET", `/v1/accounts/${h.accountId}/permissionPresets/team-lead`)).status, 404);
  });

  test("a custom role that manages presets cannot tick an action it lacks, and adding admin's actions leaves those out", async () => {
    const own = ["permissionPresets.list", "permissionPresets.create", "users.list", "users.get", "models.list", "models.get", "inference.run"];
    const made = await h.call("POST", `/v1/accounts/${h.accountId}/permissionPresets?permissionPresetId=preset-keeper`, { body: { actions: own } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    await h.call("POST", `/v1/accounts/${h.accountId}/users`, { body: { email: "pat@example.com", role: "custom", permissionPreset: "preset-keeper" } });
    const pat = await signIn("pat@example.com");
    const { page } = pat;

    await page.getByRole("button", { name: "Create preset" }).click();
    assert.equal(await page.getByRole("checkbox", { name: /users\.create/ }).isDisabled(), true);
    assert.equal(await page.getByRole("checkbox", { name: /models\.list/ }).isDisabled(), false);
    await page.getByLabel("Add the actions of role").selectOption("admin");
    await page.getByRole("button", { name: "Add admin's actions" }).click();
    const lacking = ACTION_NAMES.filter((a) => can("admin", a) && !own.includes(a)).length;
    await page.getByText(`You do not hold ${lacking} of them, so they are left out.`).waitFor();
    await checkPage(page, pat.blocked, "presets-04-custom-editor");
    await page.getByLabel("ID", { exact: true }).fill("viewer");
    await page.getByRole("dialog").getByRole("button", { name: "Create preset" }).click();
    await page.getByRole("heading", { level: 2, name: "viewer" }).waitFor();
    assert.deepEqual([...(await preset("viewer")).actions].sort(), [...own].sort());
    // It may create, not edit or delete: those buttons are not offered.
    assert.equal(await page.getByRole("button", { name: "Edit viewer" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Delete viewer" }).count(), 0);
    await pat.context.close();
  });

  test("a user reads the presets and is offered no change", async () => {
    await human(h, "una@example.com", "user");
    const una = await signIn("una@example.com");
    await una.page.getByRole("heading", { level: 2, name: "viewer" }).waitFor();
    assert.equal(await una.page.getByRole("button", { name: "Create preset" }).count(), 0);
    assert.equal(await una.page.getByRole("button", { name: /^(Edit|Delete) / }).count(), 0);
    await checkPage(una.page, una.blocked, "presets-05-read-only");
    await una.context.close();
  });
});
