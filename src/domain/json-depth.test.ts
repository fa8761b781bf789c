import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.ts";

test("nesting depth counts arrays and objects, not brackets inside strings", () => {
  const nested = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH)), false);
  assert.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1)), true);
  assert.equal(nestsDeeperThan("[".repeat(3) + "]".repeat(3), 2), true);
  assert.equal(nestsDeeperThan(JSON.stringify({ s: "[[[[{{{{", t: '\\"[[[' }), 1), false);
  assert.equal(nestsDeeperThan(JSON.stringify([["\\"], ["]]]"]]), 2), false);
});
