import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

/**
 * The console (web/src) and firectl (src/cli/firectl) read the API's resources through the types the
 * server infers from its response schemas (src/http/resources), imported as types: a field added or
 * renamed on the server reaches both clients through the type checker. A hand-written copy would not
 * follow, and nothing would fail; this test is what fails instead.
 */

const ROOT = join(import.meta.dirname, "..");
const RESOURCES = join(ROOT, "src/http/resources");
const CLIENTS = [join(ROOT, "web/src"), join(ROOT, "src/cli/firectl")];

/** Every resource type's name: each schema's OpenAPI `id`, and each type exported from src/http/resources. */
function resourceTypeNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(RESOURCES).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(RESOURCES, file), "utf8");
    for (const m of text.matchAll(/\.meta\(\{\s*id:\s*"(\w+)"/g)) names.add(m[1]!);
    for (const m of text.matchAll(/^export type (\w+)\s*=/gm)) names.add(m[1]!);
  }
  return names;
}

/**
 * The object types `text` declares by hand, by name: `interface X` and `type X = { … }`. An alias
 * derived from an imported type (`type User = WithRole<UserResource, "role">`) is not a copy.
 */
function handWrittenTypes(text: string): string[] {
  return [...text.matchAll(/\binterface\s+([A-Z]\w*)\b|\btype\s+([A-Z]\w*)(?:<[^=]*>)?\s*=\s*(?:Readonly<\s*)?\{/g)].map((m) => (m[1] ?? m[2])!);
}

function clientSources(): string[] {
  return CLIENTS.flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => /\.tsx?$/.test(f))
      .map((f) => join(dir, f)),
  );
}

test("the resource type names are read from the server's schemas", () => {
  const names = resourceTypeNames();
  for (const name of [
    "User",
    "ApiKey",
    "AuditLog",
    "Quota",
    "IdentityProvider",
    "Session",
    "SignInProvider",
    "Dataset",
    "Deployment",
    "Model",
    "Account",
    "BillingUsage",
  ]) {
    assert.ok(names.has(name), `${name} is not among the resource types (${[...names].join(", ")})`);
  }
});

test("a hand-written copy is recognised, a derived alias is not", () => {
  assert.deepEqual(handWrittenTypes("export interface User {\n  name: string;\n}"), ["User"]);
  assert.deepEqual(handWrittenTypes("type ApiKey = {\n  keyId: string;\n};"), ["ApiKey"]);
  assert.deepEqual(handWrittenTypes("type Quota = Readonly<{ value: string }>;"), ["Quota"]);
  assert.deepEqual(handWrittenTypes('export type User = WithRole<UserResource, "role">;'), []);
  assert.deepEqual(handWrittenTypes('import type { User } from "../../src/http/resources/user.ts";'), []);
});

test("the console and firectl declare no copy of a resource type: they import the server's", () => {
  const names = resourceTypeNames();
  const copies: string[] = [];
  for (const file of clientSources()) {
    for (const name of handWrittenTypes(readFileSync(file, "utf8"))) {
      if (names.has(name)) copies.push(`${relative(ROOT, file)}: ${name}`);
    }
  }
  assert.deepEqual(copies, [], "import the type from src/http/resources instead of declaring it");
});
