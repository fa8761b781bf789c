import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTime } from "./parsers.ts";

test("an RFC 3339 time flag is read as the API reads it and given in UTC", () => {
  assert.equal(parseTime("2027-01-31T18:00:00+01:00"), "2027-01-31T17:00:00.000Z");
  assert.equal(parseTime(" 2024-02-29T00:00:00Z "), "2024-02-29T00:00:00.000Z");
});

test("an RFC 3339 time flag that does not exist is refused in the API's words, not rolled over", () => {
  assert.throws(() => parseTime("2027-02-30T00:00:00Z"), { message: "2027-02-30 is not a date: that month has 28 days (RFC 3339 §5.7)" });
  assert.throws(() => parseTime("2027-01-01T24:00:00Z"), { message: /^24:00:00 is not a time of day/ });
  assert.throws(() => parseTime("9999-12-31T23:59:59-23:59"), { message: /^in UTC it is after 9999-12-31T23:59:59Z/ });
});

test("a local date that does not exist, or a time past 9999 in UTC, is refused", () => {
  assert.throws(() => parseTime("2027-02-30"), { message: /expected "YYYY-MM-DD\[ HH:MM:SS\]" in local time/ });
  assert.throws(() => parseTime("2027-01-01 24:00"), { message: /expected "YYYY-MM-DD\[ HH:MM:SS\]" in local time/ });
  assert.throws(() => parseTime("10000-01-01"), { message: /expected "YYYY-MM-DD\[ HH:MM:SS\]" in local time/ });
});

test("a local time that is past 9999-12-31 in UTC is refused, not sent as +010000-…", () => {
  const zone = process.env.TZ;
  process.env.TZ = "America/New_York";
  try {
    assert.throws(() => parseTime("9999-12-31 23:00"), { message: /^in UTC it is after 9999-12-31T23:59:59Z/ });
    assert.equal(parseTime("9999-12-31 18:00"), "9999-12-31T23:00:00.000Z");
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});
