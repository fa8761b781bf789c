import { quoted } from "./display-text.ts";
import { invalidArgument } from "./errors.ts";
import { checkField, FIELD_RULES, refusal } from "./field-rules.ts";
import { LATEST_TIMESTAMP_MS, readTimestamp } from "./rfc3339.ts";

/**
 * Parses an RFC 3339 timestamp to epoch milliseconds (`readTimestamp`: every field must exist, and
 * the instant lie within 0000-01-01 … 9999-12-31 in UTC).
 * @throws INVALID_ARGUMENT naming `what` and the fault otherwise (`FIELD_RULES.timestamp`), e.g.
 *   `invalid expireTime "2027-02-30T00:00:00Z": 2027-02-30 is not a date: that month has 28 days (RFC 3339 §5.7)`.
 */
export function parseTimestamp(value: string, what: string): number {
  const read = readTimestamp(value);
  if ("ms" in read) return read.ms;
  // The rule words readTimestamp's fault, so there is a refusal.
  throw invalidArgument(refusal(FIELD_RULES.timestamp, what, value)!);
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();

/**
 * `ms` (epoch milliseconds), when a timestamp computed from it (now + a duration) can be written
 * in RFC 3339 (`formatTimestamp` of a later instant gives `+012027-…`, which no client parses).
 * @throws INVALID_ARGUMENT naming `what` when it is after 9999-12-31T23:59:59.999Z.
 */
export function writableTimestamp(ms: number, what: string): number {
  if (ms > LATEST_TIMESTAMP_MS) throw invalidArgument(`${what} would be after 9999-12-31T23:59:59Z, the last time RFC 3339 can write; ask for less`);
  return ms;
}

/**
 * Parses a protobuf Duration's JSON form (`"86400s"`, `"1.5s"`, `"1.500000000s"`) to milliseconds;
 * INVALID_ARGUMENT naming `what` otherwise (`FIELD_RULES.duration`), and for a part below a
 * millisecond, which Hearth cannot count (dropping it made `"0.0001s"` a grace period of none).
 */
export function parseDuration(value: string, what: string): number {
  const seconds = checkField(FIELD_RULES.duration, what, value).slice(0, -1);
  const fraction = seconds.split(".")[1] ?? "";
  if (/[1-9]/.test(fraction.slice(3))) throw invalidArgument(`${what} is counted in whole milliseconds: give at most 3 decimal places, not ${quoted(value)}`);
  return Math.round(Number(seconds) * 1000);
}

/** A length of time in milliseconds as a protobuf Duration's JSON form: `86400s`, `1.5s`. */
export const formatDuration = (ms: number): string => `${ms / 1000}s`;
