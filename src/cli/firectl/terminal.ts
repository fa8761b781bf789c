/**
 * @module The one place firectl's output leaves the process. Everything firectl prints (tables,
 * `Label: value` blocks, `-o json`, notes, error messages) may carry strings the server chose —
 * a display name, an identity provider's name, an issuer URL echoed in an error — and a terminal
 * obeys escape sequences in them (ESC, BEL, 8-bit CSI) and reorders text around bidi controls
 * (U+202E makes `gpj.exe` read `exe.jpg`). So every byte written goes through `terminalSafe`.
 */

/**
 * What a terminal must not receive raw: C0 controls except tab and newline, DEL, C1 controls,
 * carriage return, the line and paragraph separators U+2028/U+2029, and format characters (Unicode
 * category Cf: bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069, the marks
 * U+200E/U+200F and U+061C, zero-width spaces, U+FEFF, tag characters). Zero-width joiner and
 * non-joiner (U+200C, U+200D) stay: emoji sequences and several scripts need them, and they
 * neither move text nor control the terminal.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /(?![\u200c\u200d])[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]/gu;

const escapeUnit = (unit: number): string => `\\u${unit.toString(16).padStart(4, "0")}`;

/**
 * `text` with every unsafe character (see `UNSAFE`) replaced by its visible JSON escape, `\u001b`
 * for ESC, `\ud83b\udc01`-style pairs above U+FFFF. The escape is chosen so `-o json` stays valid
 * JSON that parses back to the server's exact value: JSON.stringify already escapes C0 controls,
 * but writes C1 controls, DEL, bidi controls and U+2028 raw, and those can only occur inside JSON
 * strings, where `\uXXXX` means the same character. In text output the escape shows a person
 * what the server sent instead of letting it act.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (char) => {
    let out = "";
    for (let i = 0; i < char.length; i++) out += escapeUnit(char.charCodeAt(i));
    return out;
  });
}

/** Writes to stdout through `terminalSafe`. */
export function printOut(text: string): void {
  process.stdout.write(terminalSafe(text));
}

/** Writes to stderr through `terminalSafe`. */
export function printErr(text: string): void {
  process.stderr.write(terminalSafe(text));
}
