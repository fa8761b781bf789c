/**
 * @module Which characters a string shown to people may not hold. Display names, descriptions and
 * URLs end up in terminals (firectl), logs and the console; a control character there can rewrite
 * the screen (ESC sequences, BEL, 8-bit CSI) and a bidi control can reorder what is read
 * (U+202E turns "gpj.exe" into "exe.jpg"), per Unicode TR #9 and the Trojan Source findings
 * (CVE-2021-42574); a zero-width space makes `admin\u200b` read as `admin`.
 */

// C0 controls (tab and newline included: a one-line value has no use for them), DEL, C1 controls,
// every format character (Cf: the bidi embeddings, overrides, isolates and marks, zero-width
// spaces, the BOM, soft hyphens), line and paragraph separators, and the Hangul fillers that draw
// nothing (Unicode UTS #39 §3.1 lists all of these as never allowed in identifiers); and a lone
// surrogate, half of a character, which no text means.
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/gu;

// Format characters that belong to visible text in context: the zero-width joiner and non-joiner
// between two visible characters (emoji sequences like 👩‍👧, Persian and Indic words), and the
// tag characters of a subdivision flag (🏴 followed by tags).
const JOINERS = /^[\u200c\u200d]$/u;
const TAGS = /^[\u{e0020}-\u{e007f}]$/u;
const INVISIBLE = /^[\s\p{C}]$/u;

/** `U+XXXX` (at least four hex digits) of the code point that starts `char`. */
export const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

function allowedInContext(text: string, char: string, index: number): boolean {
  const before = text.slice(0, index);
  const prev = [...before.slice(-2)].at(-1) ?? "";
  if (JOINERS.test(char)) {
    const next = [...text.slice(index + 1, index + 3)][0] ?? "";
    return prev !== "" && next !== "" && !INVISIBLE.test(prev) && !INVISIBLE.test(next);
  }
  return TAGS.test(char) && (prev === "\u{1f3f4}" || TAGS.test(prev));
}

/**
 * The first control, format or invisible character of `text`, as `U+XXXX at position N` (N counts
 * UTF-16 code units from 0), or undefined when there is none. A zero-width joiner or non-joiner
 * between visible characters and the tags of a flag emoji are not refused.
 */
export function refusedCharacter(text: string): string | undefined {
  for (const found of text.matchAll(REFUSED)) {
    if (!allowedInContext(text, found[0], found.index)) return `${codePoint(found[0])} at position ${found.index}`;
  }
  return undefined;
}

/** `text` quoted, with every character outside printable ASCII written as `\uXXXX`, so a message shows it rather than obeys it. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `text` with every character `refusedCharacter` would name written as `\uXXXX` (as JSON escapes
 * it), for text Hearth must keep but did not choose: a secret scanner's URL of where a key was found.
 * Stored and shown, it then can neither rewrite a terminal nor reorder what is read.
 */
export function escapeRefused(text: string): string {
  return text.replace(REFUSED, (char, index: number) =>
    allowedInContext(text, char, index) ? char : [...Array(char.length).keys()].map((i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join(""),
  );
}
