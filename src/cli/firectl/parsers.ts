import { InvalidArgumentError } from "commander";
import { FIELD_MESSAGES, FIELD_RULES } from "../../domain/field-rules.ts";
import { EARLIEST_TIMESTAMP_MS, LATEST_TIMESTAMP_MS, readTimestamp } from "../../domain/rfc3339.ts";
import { CUSTOM_ROLE, ROLES } from "../../domain/roles.ts";
import { formatTimestamp } from "../../domain/time.ts";
import { MAX_INT32 } from "../../domain/deployment-spec.ts";
import { wholeNumber } from "../../domain/whole-number.ts";

/**
 * Parsers for flag values. They throw commander's InvalidArgumentError, which `main.ts` turns into
 * one usage sentence (`invalid --role 'x': use one of …`) and exit code 2.
 */
export function parseRole(value: string): string {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`use one of ${ROLES.join(", ")}`);
  return value;
}

/** A user's role: a built-in role or `custom` (Fireworks' firectl: with --permission-preset). */
export function parseUserRole(value: string): string {
  if (value !== CUSTOM_ROLE && !(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`use one of ${ROLES.join(", ")}, or ${CUSTOM_ROLE} with --permission-preset`);
  }
  return value;
}

/** A Go-style boolean flag declared `--flag [bool]`: alone it means true; `--flag=false` turns it off. */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError("use true or false");
}

/** A page size: a positive integer (the server caps it at 200). */
export function parsePageSize(value: string): number {
  const size = wholeNumber(value, 1, 999_999_999);
  if (size === undefined) throw new InvalidArgumentError("expected a positive integer");
  return size;
}

/** A quota value: a non-negative integer. */
export function parseCount(value: string): number {
  const count = wholeNumber(value, 0, 999_999_999_999_999);
  if (count === undefined) throw new InvalidArgumentError("expected a non-negative integer");
  return count;
}

/** An int32 flag (Fireworks' firectl declares its counts as int32): a non-negative whole number. */
export function parseInt32(value: string): number {
  const n = wholeNumber(value, 0, MAX_INT32);
  if (n === undefined) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * `YYYY-MM-DD[ HH:MM[:SS]]` in local time (the form Fireworks' firectl takes), or an RFC 3339 time
 * with a zone, read as the API reads it (`readTimestamp`); returns RFC 3339 in UTC, which is what
 * the API takes. A date or time that does not exist (2026-02-30, 24:00) is refused, not rolled
 * over, and so is an instant after 9999-12-31 or before 0000-01-01 in UTC.
 */
export function parseTime(value: string): string {
  const trimmed = value.trim();
  const read = readTimestamp(trimmed);
  if ("ms" in read) return formatTimestamp(read.ms);
  // RFC 3339 in shape, with a field that does not exist: the API's words for it.
  if (read.fault.kind !== "shape") throw new InvalidArgumentError(FIELD_RULES.timestamp.problem(trimmed)!);
  const m = LOCAL.exec(trimmed);
  const fail = () => new InvalidArgumentError('expected "YYYY-MM-DD[ HH:MM:SS]" in local time, or an RFC 3339 time like 2026-01-31T12:00:00Z');
  if (!m) throw fail();
  const [y, mo, d, h, mi, s] = m.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // Date rolls 2026-02-30 over to March; a rolled-over date was not a real one.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59 || s > 59) throw fail();
  const ms = date.getTime();
  if (ms > LATEST_TIMESTAMP_MS || ms < EARLIEST_TIMESTAMP_MS) throw new InvalidArgumentError(FIELD_MESSAGES.timestampRange(ms > LATEST_TIMESTAMP_MS));
  return formatTimestamp(ms);
}

/** An amount of US dollars: a non-negative decimal number. */
export function parseUsd(value: string): number {
  if (!/^\d{1,9}(\.\d{1,9})?$/.test(value)) throw new InvalidArgumentError("expected a non-negative amount of US dollars, e.g. 25 or 12.50");
  return Number(value);
}

/** A comma-separated list (`a,b, c`); an empty value is the empty list. */
export function parseList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A length of time: whole numbers with units, `30s`, `15m`, `24h`, `90d`, or several in that order
 * as Go prints durations (`1h0m0s`, `1h30m`: Fireworks' firectl shows its defaults so); returns the
 * API's protobuf Duration, e.g. `86400s`.
 */
export function parseDuration(value: string): string {
  const m = /^(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/.exec(value.trim());
  if (!m || value.trim() === "") throw new InvalidArgumentError("expected whole numbers with units s, m, h or d (e.g. 0s, 24h, 90d, 1h30m)");
  const [d, h, min, sec] = m.slice(1).map((part) => Number(part ?? 0));
  return `${d! * UNIT_SECONDS.d! + h! * UNIT_SECONDS.h! + min! * UNIT_SECONDS.m! + sec!}s`;
}
