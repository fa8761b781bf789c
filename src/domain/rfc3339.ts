/**
 * @module RFC 3339 date-times read strictly, the one reading of every timestamp the API takes (a
 * body's `expireTime`, a query's `startTime`, a filter's `create_time > "…"`, firectl's time flags).
 * `Date.parse` alone takes what RFC 3339 refuses and answers another instant: a day its month
 * lacks rolls over (`2027-02-30` is March 2nd), `24:00:00` is the next day, and an offset may push
 * the instant past 9999-12-31 in UTC, which is then written back as `+010000-…`.
 */

/** RFC 3339 §5.6 `date-time`, its fields captured (`T` and `Z` in either case, as §5.6 allows). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

/** The first instant RFC 3339 can write (its years have four digits): 0000-01-01T00:00:00Z, epoch ms. */
export const EARLIEST_TIMESTAMP_MS = Date.parse("0000-01-01T00:00:00Z");

/** The last instant RFC 3339 can write: 9999-12-31T23:59:59.999Z, epoch ms. */
export const LATEST_TIMESTAMP_MS = Date.parse("9999-12-31T23:59:59.999Z");

/** What is wrong with a timestamp; `field-rules.ts` words it. */
export type TimestampFault =
  /** Not RFC 3339 §5.6 `date-time` at all. */
  | { kind: "shape" }
  /** A month past 12, a day 00 or one its month does not have (§5.7); `days` in the month when it exists. */
  | { kind: "date"; date: string; days: number | undefined }
  /** An hour past 23, a minute or second past 59 (§5.7; a leap second, `:60`, is not taken). */
  | { kind: "time"; time: string }
  /** An offset whose hours are past 23 or minutes past 59 (§5.6 `time-numoffset`). */
  | { kind: "offset"; offset: string }
  /** A valid date-time whose instant, in UTC, falls outside 0000-01-01 … 9999-12-31 (an offset pushed it). */
  | { kind: "range"; after: boolean };

/** The days of `month` (1-12) in `year` of the Gregorian calendar (RFC 3339 Appendix C's leap years). */
function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Reads an RFC 3339 date-time (§5.6) whose fields all exist (§5.7): months 01-12, the days of
 * its month, hours 00-23, minutes and seconds 00-59, offsets to ±23:59, and whose instant RFC 3339
 * can write back in UTC (0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z). Fractions past the
 * millisecond are dropped, as `Date` keeps milliseconds.
 * @returns `{ ms }`, the instant in epoch milliseconds, or `{ fault }`, what is wrong.
 */
export function readTimestamp(value: string): { ms: number } | { fault: TimestampFault } {
  const m = DATE_TIME.exec(value);
  if (!m) return { fault: { kind: "shape" } };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const monthExists = month >= 1 && month <= 12;
  if (!monthExists || day < 1 || day > daysIn(year, month)) {
    return { fault: { kind: "date", date: value.slice(0, 10), days: monthExists ? daysIn(year, month) : undefined } };
  }
  if (hour > 23 || minute > 59 || second > 59) return { fault: { kind: "time", time: value.slice(11, 19) } };
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return { fault: { kind: "offset", offset: `${m[7]}${m[8]}:${m[9]}` } };
  // Every field exists: Date.parse reads the instant exactly (ISO 8601's extended format).
  const ms = Date.parse(value);
  if (ms > LATEST_TIMESTAMP_MS || ms < EARLIEST_TIMESTAMP_MS) return { fault: { kind: "range", after: ms > LATEST_TIMESTAMP_MS } };
  return { ms };
}
