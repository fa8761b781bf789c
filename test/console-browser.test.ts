import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { checkPage, ensureConsoleBuilt, launchChromium, watchCsp } from "./support/console.ts";

const A = "/v1/accounts/my-account";
const SA = "ci-bot";
const SA_EMAIL = `${SA}@my-account.sa.hearth.local`;
const LAPTOP = { width: 1366, height: 860 };
const PHONE = { width: 390, height: 844 };

/** What the test reads of an `<input>` in the page (the test's own types have no DOM). */
interface FormInput {
  validity: { valid: boolean; patternMismatch: boolean };
  matches(selector: string): boolean;
}

interface Visit {
  context: BrowserContext;
  page: Page;
  blocked: () => Promise<string[]>;
}

/**
 * The console in real headless Chromium against a real listening Hearth (SQLite): every step is
 * what a person does with a mouse or keyboard, checked against the API afterwards.
 */
describe("web console in a browser", { timeout: 300_000 }, () => {
  let h: TestHearth;
  let base: string;
  let browser: Browser;
  let admin: Visit;
  let secret = "";

  /** A fresh browser profile, signed in through a one-time link as `email`. */
  async function signIn(email: string, viewport = LAPTOP): Promise<Visit> {
    const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    const link = await createSigninLink(h.deps, h.accountId, email, base);
    await page.goto(link.url);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    return { context, page, blocked };
  }

  /** Screenshot for people to look at; no serious or critical accessibility violation; nothing blocked by the CSP. */
  const check = (visit: Visit, name: string) => checkPage(visit.page, visit.blocked, name);

  const row = (page: Page, text: string) => page.getByRole("row").filter({ hasText: text });
  const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });

  before(async () => {
    ensureConsoleBuilt();
    h = await startHearth("sqlite");
    base = await h.listen();
    await human(h, "carol@example.com", "contributor");
    const idp = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
      body: {
        displayName: "Corp SSO",
        oidcConfig: { issuerUrl: "https://login.corp.example", clientId: "hearth", clientSecret: "s3cret" },
        tenantDomains: ["corp.example"],
      },
    });
    assert.equal(idp.status, 200, JSON.stringify(idp.body));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  test("the sign-in page offers each identity provider and says service accounts cannot sign in", async () => {
    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    const blocked = await watchCsp(page);
    const res = await page.goto(`${base}/account/users`);
    assert.equal(res?.status(), 200);
    await page.waitForURL(/\/signin\?next=%2Faccount%2Fusers$/);
    const corp = page.getByRole("link", { name: "Continue with Corp SSO" });
    await corp.waitFor();
    assert.equal(await corp.getAttribute("href"), "/auth/oidc/my-account/corp/start?next=%2Faccount%2Fusers");
    assert.match(await page.locator("main").innerText(), /service accounts cannot sign in; use an API key/i);
    assert.doesNotMatch(await page.content(), /s3cret|login\.corp\.example/);
    await check({ context, page, blocked }, "01-sign-in");
    await context.close();
  });

  test("an admin's one-time link lands on the users page, signed in, with the console's security headers", async () => {
    admin = await signIn("admin@example.com");
    const { page } = admin;
    assert.equal(new URL(page.url()).pathname, "/account/users");
    await page.getByText("admin@example.com").first().waitFor();
    const res = await page.request.get(`${base}/account/users`);
    const headers = res.headers();
    assert.match(headers["content-security-policy"] ?? "", /script-src 'self'/);
    assert.match(headers["content-security-policy"] ?? "", /frame-ancestors 'none'/);
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.equal(headers["x-frame-options"], "DENY");
    assert.equal(headers["cache-control"], "no-store");
    await check(admin, "02-users-admin");
  });

  test("open redirect: the console's /signin?next=/.//evil.example/phish (and /..//, /%2e//) never leads to another site", async () => {
    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    for (const next of ["/.//evil.example/phish", "/..//evil.example", "/%2e//evil.example", "/%5Cevil.example", "https://evil.example"]) {
      await page.goto(`${base}/signin?next=${encodeURIComponent(next)}`);
      const corp = page.getByRole("link", { name: "Continue with Corp SSO" });
      await corp.waitFor();
      assert.equal(await corp.getAttribute("href"), "/auth/oidc/my-account/corp/start?next=%2Faccount%2Fusers", next);
    }
    // Signed in, the page offers to continue: to the console's own page, not to the phishing site.
    const { page: signedIn } = admin;
    await signedIn.goto(`${base}/signin?next=${encodeURIComponent("/.//evil.example/phish")}`);
    const go = signedIn.getByRole("link", { name: "Continue", exact: true });
    await go.waitFor();
    assert.equal(await go.getAttribute("href"), "/account/users");
    await go.click();
    await signedIn.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    assert.equal(new URL(signedIn.url()).origin, base);
    assert.equal(new URL(signedIn.url()).pathname, "/account/users");

    // A click on the sign-in page is a start Hearth accepts (Chromium sends Sec-Fetch-Site: same-origin);
    // the provider of this test does not exist, so what follows is its error, not the login CSRF refusal.
    await page.goto(`${base}/signin`);
    const started = page.waitForResponse((r) => r.url().includes("/auth/oidc/my-account/corp/start"));
    await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
    const res = await started;
    assert.notEqual(res.status(), 403, await res.text());
    assert.doesNotMatch(await res.text(), /must begin on Hearth's sign-in page/);
    await context.close();
  });

  test("an admin creates a service account with role contributor", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Create service account" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a service account" });
    await dialog.getByLabel("Service account ID").fill(SA);
    await dialog.getByLabel("Display name").fill("CI deployer");
    await dialog.getByRole("radio", { name: /^contributor/ }).check();
    await check(admin, "03-create-service-account");
    await dialog.getByRole("button", { name: "Create service account" }).click();
    await page.waitForURL(`${base}/account/users/${SA}`);
    await page.getByText(SA_EMAIL).first().waitFor();

    const api = await h.call("GET", `${A}/users/${SA}`);
    assert.equal(api.body.serviceAccount, true);
    assert.equal(api.body.role, "contributor");
    assert.equal(api.body.email, SA_EMAIL);
  });

  test("its API key's secret is shown once, copied with a button, and gone after a reload", async () => {
    const { page } = admin;
    // Straight after creation the console offers the first key.
    const create = page.getByRole("dialog", { name: /New API key for CI deployer/ });
    await create.waitFor();
    await create.getByLabel("Name").fill("deploy");
    await create.getByLabel("Expires").selectOption("30");
    await create.getByRole("button", { name: "Create key" }).click();

    const shown = page.getByRole("dialog", { name: "Copy your new API key" });
    await shown.waitFor();
    assert.match(await shown.innerText(), /only time the key is shown/i);
    secret = await shown.getByLabel(/API key “deploy”/).inputValue();
    assert.match(secret, /^hk_[A-Za-z0-9]{20,}/);
    await admin.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await shown.getByRole("button", { name: "Copy" }).click();
    await shown.getByText("Copied", { exact: true }).waitFor();
    assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), secret);
    await check(admin, "04-new-key-secret");

    // The key really acts as the service account.
    const verified = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(verified.status, 200);
    assert.equal(verified.headers.get("x-hearth-principal"), SA_EMAIL);

    await shown.getByRole("button", { name: "I have copied it" }).click();
    const keyRow = row(page, "deploy");
    await keyRow.waitFor();
    assert.match(await keyRow.innerText(), new RegExp(`${secret.slice(0, 9)}…`));
    await page.reload();
    await row(page, "deploy").waitFor();
    assert.ok(!(await page.content()).includes(secret), "the secret must not be shown again");
    assert.equal(await page.getByRole("dialog").count(), 0);
    await check(admin, "05-service-account-keys");
  });

  test("an admin changes the service account's role to inference-user", async () => {
    const { page } = admin;
    await nav(page, "Users").click();
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    await page.getByRole("button", { name: `Change role of ${SA_EMAIL}` }).click();
    const dialog = page.getByRole("dialog", { name: /Change the role of CI deployer/ });
    await dialog.getByRole("radio", { name: /^inference-user/ }).check();
    await check(admin, "06-change-role");
    await dialog.getByRole("button", { name: "Save role" }).click();
    await dialog.waitFor({ state: "detached" });
    await row(page, SA_EMAIL).getByText("inference-user", { exact: true }).waitFor();
    assert.equal((await h.call("GET", `${A}/users/${SA}`)).body.role, "inference-user");
  });

  test("the role dialog offers the account's permission presets for role custom", async () => {
    const { page } = admin;
    const made = await h.call("POST", `${A}/permissionPresets?permissionPresetId=runner`, {
      body: { displayName: "Runner", actions: ["inference.run", "models.list"] },
    });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    await page.reload();
    await page.getByRole("button", { name: `Change role of ${SA_EMAIL}` }).click();
    const dialog = page.getByRole("dialog", { name: /Change the role of CI deployer/ });
    await dialog.getByRole("radio", { name: /^custom/ }).check();
    const preset = dialog.getByRole("combobox", { name: "Permission preset" });
    assert.equal(await preset.inputValue(), "runner");
    await dialog.getByText("Holds exactly: inference.run, models.list.").waitFor();
    await check(admin, "06b-change-role-custom");
    await dialog.getByRole("button", { name: "Save role" }).click();
    await dialog.waitFor({ state: "detached" });
    await row(page, SA_EMAIL).getByText("custom", { exact: true }).waitFor();
    const got = (await h.call("GET", `${A}/users/${SA}`)).body;
    assert.deepEqual([got.role, got.permissionPreset], ["custom", "runner"]);
    // Back as the later steps expect it.
    assert.equal((await h.call("PATCH", `${A}/users/${SA}`, { body: { role: "inference-user" } })).status, 200);
    await page.reload();
    await row(page, SA_EMAIL).getByText("inference-user", { exact: true }).waitFor();
  });

  test("the list filters to service accounts and searches", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Service accounts", exact: true }).click();
    await page.waitForURL(/type=service/);
    await row(page, "admin@example.com").waitFor({ state: "detached" });
    const rows = await page.getByRole("row").allInnerTexts();
    assert.equal(rows.length, 2, rows.join("\n")); // header + ci-bot
    assert.match(rows[1]!, new RegExp(SA_EMAIL));
    assert.match(rows[1]!, /Service account/);
    await check(admin, "07-users-service-accounts");

    await page.getByRole("button", { name: "All", exact: true }).click();
    await page.getByRole("searchbox").fill("carol");
    await row(page, SA_EMAIL).waitFor({ state: "detached" });
    await row(page, "carol@example.com").waitFor();
    await page.getByRole("searchbox").fill("no-such-principal");
    await page.getByText("No principal matches").waitFor();
    await page.getByRole("searchbox").fill("");
  });

  test("the audit log shows the creation, and what the service account did under its own email", async () => {
    // The service account uses its key (as a script would): it creates a key of its own.
    const own = await fetch(`${base}${A}/users/${SA}/apiKeys`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ apiKey: { displayName: "rotated" } }),
    });
    assert.equal(own.status, 200);

    const { page } = admin;
    await nav(page, "Audit log").click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await page.getByLabel("Principal").fill(SA_EMAIL);
    await page.getByRole("button", { name: "Apply" }).click();
    const byIt = row(page, "CreateApiKey").filter({ hasText: SA_EMAIL });
    await byIt.waitFor();
    assert.equal(await row(page, "admin@example.com").count(), 0);

    await page.getByLabel("Principal").fill("");
    await page.getByLabel("Resource contains").fill(`users/${SA}`);
    await page.getByLabel("Method").fill("CreateUser");
    await page.getByRole("button", { name: "Apply" }).click();
    const creation = row(page, "CreateUser").filter({ hasText: `accounts/my-account/users/${SA}` });
    await creation.waitFor();
    assert.match(await creation.innerText(), /admin@example\.com/);
    await creation.getByRole("button", { name: /Details/ }).click();
    const payload = page.getByLabel("Payload of CreateUser");
    await payload.waitFor();
    const text = await payload.innerText();
    assert.match(text, /"serviceAccount": true/);
    assert.match(text, /"role": "contributor"/);
    await check(admin, "08-audit-log");
    // The details are a drawer over the list: Escape closes it.
    await page.keyboard.press("Escape");
    await payload.waitFor({ state: "detached" });
  });

  test("deleting the service account names what goes with it and revokes its keys", async () => {
    const { page } = admin;
    await nav(page, "Users").click();
    await page.getByRole("button", { name: `Delete ${SA_EMAIL}` }).click();
    const dialog = page.getByRole("dialog", { name: `Delete service account ${SA}?` });
    await dialog.getByText(/Its 2 API keys are revoked/).waitFor();
    await check(admin, "09-delete-service-account");
    await dialog.getByRole("button", { name: `Delete ${SA}` }).click();
    await dialog.waitFor({ state: "detached" });
    await row(page, SA_EMAIL).waitFor({ state: "detached" });
    assert.equal((await h.call("GET", `${A}/users/${SA}`)).status, 404);
    const refused = await fetch(`${base}/verifyApiKey`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(refused.status, 401);
  });

  test("quotas show usage against each quota, and an admin changes one within its maximum", async () => {
    const { page } = admin;
    await nav(page, "Quotas").click();
    await page.getByRole("heading", { level: 1, name: "Quotas" }).waitFor();
    await page
      .getByRole("img", { name: /of 100 used/ })
      .first()
      .waitFor();
    await check(admin, "10-quotas-admin");
    await page.getByRole("button", { name: "Change the Service accounts quota" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("New value").fill("1000");
    await dialog.getByRole("button", { name: "Save quota" }).click();
    await dialog
      .getByRole("alert")
      .getByText(/exceeds its maxValue 100/)
      .waitFor(); // the API's own sentence
    await dialog.getByLabel("New value").fill("40");
    await dialog.getByRole("button", { name: "Save quota" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await h.call("GET", `${A}/quotas/service-accounts`)).body.value, "40");
  });

  test("identity providers are listed for admins with controls to manage them", async () => {
    const { page } = admin;
    await nav(page, "Identity providers").click();
    await page.getByRole("heading", { level: 2, name: "Corp SSO" }).waitFor();
    await page.getByRole("button", { name: "Add identity provider" }).waitFor();
    assert.doesNotMatch(await page.content(), /s3cret/);
    // Each provider shows its own redirect URI to register with it.
    const redirectUris = await page.locator('[id^="redirect-uri-"]').allTextContents();
    assert.ok(redirectUris.length > 0);
    for (const uri of redirectUris) assert.match(uri, /^http:\/\/127\.0\.0\.1:\d+\/auth\/oidc\/callback\/my-account\/[a-z][a-z0-9-]*$/);
    await check(admin, "11-identity-providers-admin");
  });

  test("an id the API would refuse (AIP-122) is stopped in the form: nothing is sent", async () => {
    const { page } = admin;
    const posts: string[] = [];
    const record = (request: { method: () => string; url: () => string }) => {
      if (request.method() === "POST") posts.push(request.url());
    };
    page.on("request", record);
    try {
      /** Types `id`, submits, and returns whether the browser flagged the id as not matching its pattern. */
      const refused = async (dialog: ReturnType<Page["getByRole"]>, label: string, id: string, submit: string): Promise<boolean> => {
        const input = dialog.getByLabel(label, { exact: true });
        await input.fill(id);
        await dialog.getByRole("button", { name: submit }).click();
        await dialog.waitFor(); // still open
        return input.evaluate((el) => (el as unknown as FormInput).validity.patternMismatch && (el as unknown as FormInput).matches(":invalid"));
      };

      await page.getByRole("button", { name: "Add identity provider" }).click();
      const idp = page.getByRole("dialog", { name: "Add an identity provider" });
      await idp.getByLabel("Issuer URL").fill("https://login.other.example");
      await idp.getByLabel("Client ID").fill("hearth-other");
      for (const id of ["Other SSO", "other-", "9other"]) assert.equal(await refused(idp, "ID", id, "Add provider"), true, id);
      await page.keyboard.press("Escape");
      await idp.waitFor({ state: "detached" });

      await nav(page, "Users").click();
      await page.getByRole("button", { name: "Create service account" }).click();
      const sa = page.getByRole("dialog", { name: "Create a service account" });
      for (const id of ["My SA", "my-sa-", "-my-sa", "my_sa"]) assert.equal(await refused(sa, "Service account ID", id, "Create service account"), true, id);
      // A valid id passes the same check (the pattern is not simply rejecting everything).
      await sa.getByLabel("Service account ID").fill("my-sa");
      assert.equal(await sa.getByLabel("Service account ID").evaluate((el) => (el as unknown as FormInput).validity.valid), true);
      await page.keyboard.press("Escape");
      await sa.waitFor({ state: "detached" });
    } finally {
      page.off("request", record);
    }
    assert.deepEqual(posts, [], "the browser sent a form with an invalid id");
    assert.equal((await h.call("GET", `${A}/identityProviders/other-sso`)).status, 404);
  });

  test("a non-admin sees what its role allows and no admin controls", async () => {
    const carol = await signIn("carol@example.com");
    const { page } = carol;
    await row(page, "admin@example.com").waitFor();
    for (const name of ["Create service account", "Add person"]) assert.equal(await page.getByRole("button", { name }).count(), 0, name);
    assert.equal(await page.getByRole("button", { name: /^Change role of / }).count(), 0);
    assert.equal(await page.getByRole("button", { name: /^Delete / }).count(), 0);
    await check(carol, "12-users-non-admin");

    await nav(page, "My API keys").click();
    await page.getByRole("button", { name: "Create API key" }).waitFor(); // its own keys: allowed
    assert.equal(await page.getByRole("button", { name: "Change role" }).count(), 0);
    await check(carol, "13-own-keys-non-admin");

    await nav(page, "Quotas").click();
    await page.getByRole("img", { name: /used/ }).first().waitFor();
    assert.equal(await page.getByRole("button", { name: /^Change the / }).count(), 0);
    await check(carol, "14-quotas-non-admin");

    await nav(page, "Identity providers").click();
    await page.getByRole("heading", { level: 2, name: "Corp SSO" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Add identity provider|^Edit|^Delete/ }).count(), 0);

    await nav(page, "Audit log").click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await page.waitForLoadState("networkidle");
    assert.equal(await page.getByLabel("Principal").count(), 0);
    assert.equal(await row(page, "admin@example.com").count(), 0, "a non-admin sees only its own entries");
    await check(carol, "15-audit-log-non-admin");
    await carol.context.close();
  });

  test("at a phone's width the pages fit the screen and the menu opens from a button", async () => {
    const phone = await signIn("admin@example.com", PHONE);
    const { page } = phone;
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    assert.ok((await overflow()) <= 0, `users page is ${await overflow()}px wider than the screen`);
    await check(phone, "16-users-phone");
    await page.getByRole("button", { name: "Menu" }).click();
    await nav(page, "Audit log").click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    assert.ok((await overflow()) <= 0, "audit log is wider than the screen");
    await check(phone, "17-audit-log-phone");
    await phone.context.close();
  });

  test("a service account is created with the keyboard alone, and Escape closes a dialog", async () => {
    const { page } = admin;
    await nav(page, "Users").click();
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    await page.getByRole("button", { name: "Create service account" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create a service account" });
    await dialog.waitFor();
    assert.equal(await page.evaluate<string>("document.activeElement?.id"), "sa-id", "focus starts in the first field");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    await page.keyboard.press("Enter"); // focus went back to the button that opened it
    await dialog.waitFor();
    await page.keyboard.type("kb-bot");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/account/users/kb-bot`);
    assert.equal((await h.call("GET", `${A}/users/kb-bot`)).body.role, "user");
    const offered = page.getByRole("dialog", { name: /New API key for kb-bot/ });
    await offered.waitFor();
    await page.keyboard.press("Escape"); // the offered first key is not wanted
    await offered.waitFor({ state: "detached" });
  });

  test("signing out ends the session: the console asks to sign in again", async () => {
    const { page } = admin;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin\?signedOut=1$/);
    await page.getByText("You are signed out.").waitFor();
    await page.goto(`${base}/account/quotas`);
    await page.waitForURL(/\/signin\?next=%2Faccount%2Fquotas$/);
    await admin.context.close();
  });
});
