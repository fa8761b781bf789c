import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CONSOLE_DIST } from "../../src/http/console.ts";
import { createSigninLink } from "../../src/service/signin-links.ts";
import type { TestHearth } from "./hearth.ts";

/**
 * Browser tests of the web console: Debian's Chromium driven by playwright-core (no browser is
 * downloaded), axe-core injected into each page, screenshots kept in test-output/console/.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CHROMIUM = process.env.HEARTH_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "test-output", "console");

/**
 * Builds web/dist when it is missing (a clone where `npm install` did not run `prepare`). Test
 * files run in parallel, so one build at a time: a directory is the lock.
 */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(CONSOLE_DIST, "index.html"))) return;
  const lock = join(ROOT, "web", ".build-lock");
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another file is building; a lock older than a minute is a build that died.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (existsSync(join(CONSOLE_DIST, "index.html"))) return;
    // Vite's package exports no bin path; its folder is found through package.json.
    const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
    const built = spawnSync(process.execPath, [vite, "build", "web", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * Records what the page's content security policy blocked. Installed through the DevTools
 * protocol, so the policy (which forbids inline scripts) does not apply to the recorder itself.
 */
export async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript({
    content: `window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
  });
  return () => page.evaluate<string[]>("window.__csp ?? []");
}

const axeSource: string = (createRequire(import.meta.url)("axe-core") as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/** Runs axe-core on the page as it is now; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(axeSource);
  // Evaluated in the page (a string: this file is type-checked without the DOM library).
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ["violations"] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`);
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** A readable account of violations for an assertion message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ""}`).join("\n  ")}`)
    .join("\n");
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * The check at each step of a browser test: once the page has settled (network idle), a screenshot
 * named `name`, no serious or critical axe violation, and nothing the content security policy
 * blocked (`blocked`, from `watchCsp`). Throws an assertion error naming the step.
 */
export async function checkPage(page: Page, blocked: () => Promise<string[]>, name: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  await screenshot(page, name);
  const violations = await seriousViolations(page);
  assert.equal(violations.length, 0, `${name}:\n${describeViolations(violations)}`);
  assert.deepEqual(await blocked(), [], `${name}: the content security policy blocked something`);
}

/** A person's browser on the console: its own context and page, and what the CSP blocked there. */
export interface Visit {
  context: BrowserContext;
  page: Page;
  blocked: () => Promise<string[]>;
}

/**
 * Signs `email` in to the console of `h` (listening) through a one-time link, in a fresh context at
 * 1280 × 900, and opens the navigation's page `open` when given (waiting for its heading).
 */
export async function signInToConsole(browser: Browser, h: TestHearth, email: string, open?: string): Promise<Visit> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  const page = await context.newPage();
  const blocked = await watchCsp(page);
  await page.goto((await createSigninLink(h.deps, h.accountId, email, h.baseUrl)).url);
  await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  if (open) {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: open, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: open }).waitFor();
  }
  return { context, page, blocked };
}
