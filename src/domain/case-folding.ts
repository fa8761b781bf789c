/**
 * The one case folding of Hearth's filters (AIP-160 `:` is case-insensitive): Unicode NFC, then
 * JavaScript's `toLowerCase` (Unicode default, locale-independent lowercase), then the final sigma
 * `ς` as `σ` (Unicode CaseFolding.txt), so a word's end in a search still matches mid-word.
 * Hearth stores this form of searchable text itself (`<column>_folded`) rather than asking the
 * database, whose `lower()` folds ASCII only (SQLite) or follows the server's locale (PostgreSQL).
 * E.g. `Émile` and `ÉMILE` (or `E` + U+0301) → `émile`; `STRAẞE` → `straße`; `İ` → `i̇`.
 */
export function foldCase(text: string): string {
  return text.normalize("NFC").toLowerCase().replaceAll("ς", "σ");
}
