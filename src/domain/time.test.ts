import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, formatTimestamp, parseDuration, parseTimestamp } from "./time.ts";

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

// RFC 3339 §5.6 date-times whose every field exists (§5.7), within what RFC 3339 can write in UTC.
const TIMES: Array<[string, string]> = [
  ["2026-01-31T12:00:00Z", "2026-01-31T12:00:00.000Z"],
  ["2026-01-31t12:00:00z", "2026-01-31T12:00:00.000Z"],
  ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ["2000-02-29T23:59:59.123456789+01:00", "2000-02-29T22:59:59.123Z"],
  ["2027-01-01T00:00:00+23:59", "2026-12-31T00:01:00.000Z"],
  ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"],
  ["9999-12-31T23:59:59+01:00", "9999-12-31T22:59:59.000Z"],
  ["0000-01-01T00:00:00-01:00", "0000-01-01T01:00:00.000Z"],
];
for (const [text, utc] of TIMES) {
  test(`"${text}" is ${utc}`, () => assert.equal(formatTimestamp(parseTimestamp(text, "expireTime")), utc));
}

// Refused rather than rolled over (2027-02-30 was March 2nd) or written back as "+010000-…".
const BAD_TIMES: Array<[string, RegExp]> = [
  ["2027-02-30T00:00:00Z", /^invalid expireTime "2027-02-30T00:00:00Z": 2027-02-30 is not a date: that month has 28 days \(RFC 3339 §5\.7\)$/],
  ["2023-02-29T00:00:00Z", /2023-02-29 is not a date: that month has 28 days/],
  ["1900-02-29T00:00:00Z", /1900-02-29 is not a date: that month has 28 days/],
  ["2026-04-31T00:00:00Z", /2026-04-31 is not a date: that month has 30 days/],
  ["2026-13-01T00:00:00Z", /2026-13-01 is not a date: months run from 01 to 12/],
  ["2026-00-10T00:00:00Z", /months run from 01 to 12/],
  ["2026-01-00T00:00:00Z", /2026-01-00 is not a date: that month has 31 days/],
  ["2027-01-01T24:00:00Z", /24:00:00 is not a time of day: hours run from 00 to 23/],
  ["2027-01-01T23:60:00Z", /23:60:00 is not a time of day/],
  ["2026-12-31T23:59:60Z", /23:59:60 is not a time of day/],
  ["2027-01-01T00:00:00+24:00", /\+24:00 is not an offset/],
  ["2027-01-01T00:00:00-00:60", /-00:60 is not an offset/],
  ["9999-12-31T23:59:59-23:59", /in UTC it is after 9999-12-31T23:59:59Z, the last time RFC 3339 can write$/],
  ["9999-12-31T23:59:59.999-00:01", /after 9999-12-31T23:59:59Z/],
  ["0000-01-01T00:00:00+00:01", /in UTC it is before 0000-01-01T00:00:00Z, the first time RFC 3339 can write$/],
  ["2026-01-31", /expected an RFC 3339 timestamp like 2026-01-31T12:00:00Z/],
  ["2026-01-31T12:00:00", /expected an RFC 3339 timestamp/],
  ["+010000-01-01T00:00:00Z", /expected an RFC 3339 timestamp/],
];
for (const [text, message] of BAD_TIMES) {
  test(`"${text}" is refused naming the field and why`, () => assert.throws(() => parseTimestamp(text, "expireTime"), { message }));
}
