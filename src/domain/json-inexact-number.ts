/**
 * Number literals a JSON text holds that `JSON.parse` cannot keep as sent (an IEEE 754 double), so
 * that serialising the parsed value again, as the inference gateway does for its backend, would send
 * another number: one past the largest double (`1e309` becomes Infinity, serialised as `null`), or an
 * integer past ±(2^53 − 1) (`18446744073709551615` becomes `18446744073709552000`).
 */

/** Only a text with a run of 16 digits or a 3-digit exponent can hold such a literal: most are passed at once. */
const MAYBE = /\d{16}|[eE][+-]?\d{3}/;
const NUMBER_CHAR = /[0-9.eE+-]/;
const INTEGER = /^-?\d+$/;

/**
 * The first number literal of `text` (outside its strings) that parses to Infinity, or an integer
 * literal that parses to another integer (past Number.MAX_SAFE_INTEGER, where doubles skip some);
 * undefined when there is none.
 * @param text a valid JSON text (already parsed).
 */
export function inexactNumber(text: string): string | undefined {
  if (!MAYBE.test(text)) return undefined;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++;
      const literal = text.slice(i, end);
      const value = Number(literal);
      if (!Number.isFinite(value) || (INTEGER.test(literal) && !Number.isSafeInteger(value) && BigInt(literal) !== BigInt(value))) return literal;
      i = end - 1;
    }
  }
  return undefined;
}
