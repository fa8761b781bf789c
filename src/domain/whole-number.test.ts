import assert from "node:assert/strict";
import { test } from "node:test";
import { wholeNumber } from "./whole-number.ts";

test("a whole number is decimal digits, within its bounds; every other spelling Number() reads is refused", () => {
  assert.equal(wholeNumber("0"), 0);
  assert.equal(wholeNumber("010"), 10);
  assert.equal(wholeNumber("65535", 0, 65535), 65535);
  assert.equal(wholeNumber("65536", 0, 65535), undefined);
  assert.equal(wholeNumber("0", 1), undefined);
  for (const spelling of ["", " 1", "1 ", "+1", "-1", "0x1", "0b1", "0o1", "1e0", "1.0", "1_000", "١", "Infinity"]) {
    assert.equal(wholeNumber(spelling), undefined, JSON.stringify(spelling));
  }
  assert.equal(wholeNumber("9".repeat(400)), undefined, "beyond the largest safe integer");
});
