import assert from "node:assert/strict";
import { test } from "node:test";
import { inexactNumber } from "./json-inexact-number.ts";

test("a number JSON.parse would change is found: past the largest double, or an integer past 2^53 - 1", () => {
  const cases: Array<[string, string | undefined]> = [
    ['{"temperature": 1e309}', "1e309"],
    ['{"t": -1.8e308}', "-1.8e308"],
    ['{"seed": 18446744073709551615}', "18446744073709551615"],
    ['{"seed": 9007199254740993}', "9007199254740993"],
    ['{"a": [1, {"b": -9007199254740993}]}', "-9007199254740993"],
    [`{"n": ${"9".repeat(400)}}`, "9".repeat(400)],
    // Kept as sent: safe integers, finite numbers (rounded as any double reader rounds them), and strings.
    ['{"seed": 9007199254740991, "m": -9007199254740991}', undefined],
    ['{"big": 1e308, "small": 1e-400, "x": 1.5e300, "p": 0.12345678901234567890123}', undefined],
    ['{"exact": 1e20, "also": 100000000000000000000, "two53": 9007199254740992}', undefined],
    ['{"s": "18446744073709551615 and 1e309", "t": "\\"1e999"}', undefined],
    ["[1, 2.5, -0, 3e2]", undefined],
  ];
  for (const [text, expected] of cases) assert.equal(inexactNumber(text), expected, text);
});
