import { invalidArgument } from "./errors.ts";
import { checkField, FIELD_RULES } from "./field-rules.ts";

/** Parses an RFC 3339 timestamp to epoch milliseconds; INVALID_ARGUMENT naming `what` otherwise (`FIELD_RULES.timestamp`). */
export function parseTimestamp(value: string, what: string): number {
  return Date.parse(checkField(FIELD_RULES.timestamp, what, value));
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();

/** The last instant RFC 3339 can write (its years have four digits): 9999-12-31T23:59:59.999Z, epoch ms. */
const LATEST_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

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
  if (/[1-9]/.test(fraction.slice(3)))
    throw invalidArgument(`${what} is counted in whole milliseconds: give at most 3 decimal places, not ${JSON.stringify(value)}`);
  return Math.round(Number(seconds) * 1000);
}

/** A length of time in milliseconds as a protobuf Duration's JSON form: `86400s`, `1.5s`. */
export const formatDuration = (ms: number): string => `${ms / 1000}s`;
