/** How the console writes times, sizes and amounts. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const number = new Intl.NumberFormat();

export function formatDateTime(iso: string | undefined): string {
  if (!iso) return "";
  return dateTime.format(new Date(iso));
}

/** Date and time to the second (an audit entry's time). */
export function formatDateTimeSeconds(iso: string | undefined): string {
  if (!iso) return "";
  return dateTimeSeconds.format(new Date(iso));
}

/** The time of day to the second, without the date. */
export function formatTimeSeconds(iso: string | undefined): string {
  if (!iso) return "";
  return timeSeconds.format(new Date(iso));
}

export function formatDate(iso: string | undefined): string {
  if (!iso) return "";
  return dateOnly.format(new Date(iso));
}

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 minutes ago", "in 29 days", "now". */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return seconds < 0 ? "just now" : "in a moment";
}

export function formatNumber(value: number): string {
  return number.format(value);
}

export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(value < 10 ? 2 : 1))} ${units[unit]}`;
}

export function formatUsd(value: number): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 2 }).format(value);
}

/** A value for an `<input type="datetime-local">` in the browser's time zone. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A protobuf Duration (`"7776000s"`, the key policy's lifetimes) in days; undefined when absent. */
export const durationDays = (duration: string | undefined): number | undefined => (duration ? Number(duration.slice(0, -1)) / 86_400 : undefined);

/** `days` (a whole or fractional number of days) as a protobuf Duration, `"7776000s"`. */
export const daysDuration = (days: number): string => `${Math.round(days * 86_400)}s`;
