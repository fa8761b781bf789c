import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./time.ts";

// protobuf Duration's JSON form (google.protobuf.Duration): seconds, up to nine fractional digits, suffix "s".
const VALID: Array<[string, number]> = [
  ["0s", 0],
  ["86400s", 86_400_000],
  ["1.5s", 1500],
  ["1.500000000s", 1500],
  ["4.35s", 4350],
  ["315576000000s", 315_576_000_000_000],
];
const INVALID = ["", "86400", "1d", "-1s", "1.s", ".5s", "1.0000000001s", "315576000001s", " 1s", "1 s"];

for (const [text, ms] of VALID) {
  test(`"${text}" is ${ms} ms`, () => assert.equal(parseDuration(text, "gracePeriod"), ms));
}

for (const text of INVALID) {
  test(`"${text}" is refused naming the field`, () => {
    assert.throws(() => parseDuration(text, "gracePeriod"), /gracePeriod.*expected a protobuf Duration in seconds like "86400s"/);
  });
}

test('a part below a millisecond is refused, not dropped ("0.0001s" was a grace period of none)', () => {
  for (const text of ["0.000000001s", "0.0001s", "604800.000000001s"]) {
    assert.throws(() => parseDuration(text, "gracePeriod"), /gracePeriod is counted in whole milliseconds/, text);
  }
});

test("milliseconds are written back as the same Duration", () => {
  for (const ms of [0, 1500, 86_400_000, 7_776_000_000]) assert.equal(parseDuration(formatDuration(ms), "x"), ms);
  assert.equal(formatDuration(86_400_000), "86400s");
});
