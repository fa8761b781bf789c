/**
 * @module Which characters a string shown to people may not hold. Display names, descriptions and
 * URLs end up in terminals (firectl), logs and the console; a control character there can rewrite
 * the screen (ESC sequences, BEL, 8-bit CSI) and a bidi control can reorder what is read
 * (U+202E turns "gpj.exe" into "exe.jpg"), per Unicode TR #9 and the Trojan Source findings
 * (CVE-2021-42574).
 */

// C0 controls (tab and newline included: a one-line value has no use for them), DEL, C1 controls;
// the bidi embeddings, overrides and isolates, the LRM/RLM marks and the Arabic letter mark.
// eslint-disable-next-line no-control-regex
const REFUSED = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;

/**
 * The first control or bidi character of `text`, as `U+XXXX at position N` (N counts UTF-16 code
 * units from 0), or undefined when there is none.
 */
export function refusedCharacter(text: string): string | undefined {
  const found = REFUSED.exec(text);
  if (!found) return undefined;
  return `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} at position ${found.index}`;
}
