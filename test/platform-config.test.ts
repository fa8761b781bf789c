import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hearth } from "./support/process.ts";

test("a bad HEARTH_CONFIG file stops start-up with a sentence naming the problem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-config-"));
  const file = join(dir, "platform.json");
  writeFileSync(file, JSON.stringify({ backends: [{ name: "vllm", baseUrl: "not a url", apiKey: "s3cret-value" }] }));
  const bad = await hearth(["serve"], { HEARTH_DATA_DIR: dir, HEARTH_CONFIG: file, HEARTH_PORT: "0" });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^hearth: invalid HEARTH_CONFIG: field "backends\.0\.baseUrl" must be an http:\/\/ or https:\/\/ URL\n$/);
  assert.equal(bad.stderr.includes("s3cret-value") || bad.stdout.includes("s3cret-value"), false);
  const missing = await hearth(["serve"], { HEARTH_DATA_DIR: dir, HEARTH_CONFIG: join(dir, "absent.json"), HEARTH_PORT: "0" });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /invalid HEARTH_CONFIG: cannot read .*absent\.json \(ENOENT\)/);
});
