import { invalidArgument } from "./errors.ts";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC 3339 timestamp to epoch milliseconds; INVALID_ARGUMENT naming `what` otherwise. */
export function parseTimestamp(value: string, what: string): number {
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalidArgument(`invalid ${what} ${JSON.stringify(value)}: expected an RFC 3339 timestamp like 2026-01-31T12:00:00Z`);
  }
  return ms;
}

export const formatTimestamp = (ms: number): string => new Date(ms).toISOString();
