import { checkField, FIELD_RULES } from "./field-rules.ts";

/** Parses an RFC 3339 timestamp to epoch milliseconds; INVALID_ARGUMENT naming `what` otherwise (`FIELD_RULES.timestamp`). */
export function parseTimestamp(value: string, what: string): number {
  return Date.parse(checkField(FIELD_RULES.timestamp, what, value));
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();
