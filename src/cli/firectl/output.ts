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

/** The last path segment of a resource name: `accounts/a/users/x` → `x`. */
export const idOf = (name: string | undefined): string => idOfName(name ?? "");
