/**
 * Text rendering: aligned tables for lists, `Label: value` blocks for one resource, local times.
 * `-o json` bypasses all of this and prints the API's JSON as it came (made terminal-safe on the
 * way out, like everything firectl prints).
 */
import { terminalSafe } from "./terminal.ts";
import { idOfName } from "../../domain/resource-names.ts";

export type Column<T> = readonly [header: string, cell: (row: T) => string];

/**
 * A cell or field value on one line and terminal-safe before it is measured for alignment:
 * newlines and tabs print as spaces, other controls and bidi/format characters as escapes.
 */
function clean(text: string): string {
  return terminalSafe(text.replace(/[\n\t]/g, " "));
}

/** Columns separated by two spaces, padded to the widest cell; the header row is always printed. */
export function renderTable<T>(columns: ReadonlyArray<Column<T>>, rows: readonly T[]): string {
  const grid = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => clean(cell(row))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => (line[i] ?? "").length)));
  return (
    grid
      .map((line) =>
        line
          .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** `Label:  value` lines with the values aligned. */
export function renderFields(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${clean(value)}`.trimEnd()).join("\n") + "\n";
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** An RFC 3339 time as local `YYYY-MM-DD HH:MM:SS` (the same form `--expire-time` takes). */
export function localTime(iso: string | undefined, missing = "-"): string {
  if (!iso) return missing;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const yesNo = (value: boolean | undefined): string => (value ? "yes" : "no");

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** `displayName` → `display-name`, the spelling of firectl's flags. */
const kebab = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A value as one shell word: bare when it holds only safe characters, else single-quoted. */
const shellWord = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`);

function flagLines(value: Record<string, unknown>, prefix: string, lines: string[]): void {
  for (const [key, field] of Object.entries(value)) {
    const flag = `--${prefix}${kebab(key)}`;
    if (field === undefined || field === null) continue;
    if (typeof field === "boolean") lines.push(field ? flag : `${flag}=false`);
    else if (Array.isArray(field) && field.every((item) => typeof item !== "object" || item === null) && field.length > 0) {
      for (const item of field) lines.push(`${flag}=${shellWord(String(item))}`);
    } else if (typeof field === "object" && !Array.isArray(field) && Object.keys(field).length > 0) {
      flagLines(field as Record<string, unknown>, `${prefix}${kebab(key)}-`, lines);
    } else if (typeof field === "object") lines.push(`${flag}=${shellWord(JSON.stringify(field))}`);
    else lines.push(`${flag}=${shellWord(String(field))}`);
  }
}

/** The items of an AIP-158 list page (`{<items>: [...], nextPageToken}`), or undefined for one resource. */
function pageItems(value: Record<string, unknown>): unknown[] | undefined {
  if (!Object.hasOwn(value, "nextPageToken")) return undefined;
  return Object.values(value).find((field) => Array.isArray(field)) as unknown[] | undefined;
}

/**
 * `-o flag` (Fireworks firectl's third output format): each field of a resource as a
 * `--field-name=value` line, in firectl's kebab-case flag spelling with shell-quoted values;
 * nested fields join their names (`status.code` → `--status-code`), a repeated field repeats
 * its flag, `true` is the bare flag. A list prints one block per item, blocks separated by a blank line.
 */
export function renderFlags(value: unknown): string {
  if (value === null || typeof value !== "object") return `${String(value)}\n`;
  const record = value as Record<string, unknown>;
  const items = pageItems(record) ?? [record];
  return items
    .map((item) => {
      const lines: string[] = [];
      flagLines(item as Record<string, unknown>, "", lines);
      return lines.map((line) => clean(line)).join("\n") + "\n";
    })
    .join("\n");
}

/** The last path segment of a resource name: `accounts/a/users/x` → `x`. */
export const idOf = (name: string | undefined): string => idOfName(name ?? "");
