import { checkField, FIELD_RULES } from "./field-rules.ts";

/** Parses an RFC 3339 timestamp to epoch milliseconds; INVALID_ARGUMENT naming `what` otherwise (`FIELD_RULES.timestamp`). */
export function parseTimestamp(value: string, what: string): number {
  return Date.parse(checkField(FIELD_RULES.timestamp, what, value));
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();

/**
 * Parses a protobuf Duration's JSON form (`"86400s"`, `"1.5s"`) to milliseconds (fractions below a
 * millisecond are dropped); INVALID_ARGUMENT naming `what` otherwise (`FIELD_RULES.duration`).
 */
export function parseDuration(value: string, what: string): number {
  return Math.floor(Number(checkField(FIELD_RULES.duration, what, value).slice(0, -1)) * 1000);
}

/** A length of time in milliseconds as a protobuf Duration's JSON form: `86400s`, `1.5s`. */
export const formatDuration = (ms: number): string => `${ms / 1000}s`;
