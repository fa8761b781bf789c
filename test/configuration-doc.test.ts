import assert from "node:assert/strict";
import { globSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * docs/configuration.md is the list of every environment variable (the README says so): each one
 * the server's code names is in it. Before, 19 of them (the key caches, authentication throttling,
 * timeouts, sessions, the secret key, leak reports…) were described only beside their feature.
 */
test("every environment variable the code reads is in docs/configuration.md", () => {
  const doc = readFileSync(`${ROOT}docs/configuration.md`, "utf8");
  const named = new Set<string>();
  for (const file of globSync("src/**/*.ts", { cwd: ROOT })) {
    for (const [name] of readFileSync(`${ROOT}${file}`, "utf8").matchAll(/\bHEARTH_[A-Z0-9_]+\b|\b(?:DATABASE_URL|REDIS_URL)\b/g)) named.add(name);
  }
  assert.ok(named.size > 30, `variables found: ${named.size}`);
  const missing = [...named].filter((name) => !doc.includes(`\`${name}\``)).sort();
  assert.deepEqual(missing, [], `not in docs/configuration.md: ${missing.join(", ")}`);
});
