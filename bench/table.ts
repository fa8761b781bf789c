/** One line of the results table: a figure for Hearth next to a baseline measured in the same run. */
export interface Row {
  item: number;
  what: string;
  hearth: string;
  baseline: string;
  /** Hearth ÷ baseline (or the comparison the target is stated in); empty when it means nothing. */
  ratio: string;
  target: string;
  /** "yes", "NO", "—" (no target on this line) or "not run: <reason>". */
  met: string;
}

export const met = (ok: boolean): string => (ok ? "yes" : "NO");

/** A row for an item that could not run, with the reason in place of the figures. */
export function notRun(item: number, what: string, target: string, reason: string): Row {
  return { item, what, hearth: "—", baseline: "—", ratio: "—", target, met: `not run: ${reason}` };
}

const HEADERS = ["#", "measure", "Hearth", "baseline (same run)", "ratio", "target", "met"];

/** Renders the rows as a Markdown table with aligned columns (readable in a terminal, pasteable as is). */
export function renderTable(rows: Row[]): string {
  const cells = rows.map((r) => [String(r.item), r.what, r.hearth, r.baseline, r.ratio, r.target, r.met]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(HEADERS), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}
