import { isUtf8 } from "node:buffer";

/**
 * @module Strict UTF-8 decoding of what a client sends. A lenient decoder (`Buffer.toString`,
 * Fastify's string bodies) puts U+FFFD in place of each ill-formed sequence, so the text stored or
 * forwarded would differ from the bytes sent; JSON exchanged between systems must be UTF-8
 * (RFC 8259 §8.1), so such a body is refused instead.
 */

/**
 * The offset of the first byte of `bytes` that is not part of well-formed UTF-8, or undefined when
 * there is none. Found where the lenient decoder put a U+FFFD the bytes do not spell (`EF BF BD`).
 */
function firstIllFormedByte(bytes: Buffer): number | undefined {
  const text = bytes.toString("utf8");
  let offset = 0;
  let from = 0;
  for (let at = text.indexOf("\uFFFD"); at !== -1; at = text.indexOf("\uFFFD", at + 1)) {
    offset += Buffer.byteLength(text.slice(from, at), "utf8");
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return offset;
    offset += 3;
    from = at + 1;
  }
  return undefined;
}

/**
 * `bytes` as text, when they are well-formed UTF-8 (RFC 3629 §3-4: no overlong form such as
 * `C0 AF`, no surrogate, nothing past U+10FFFF, no character cut short at the end). Checked by
 * Node's native `isUtf8` (cheap enough for the inference gateway's every call).
 * @throws Error whose message names the first bad byte and its offset (0-based), e.g.
 *   `not valid UTF-8: byte 0xC0 at offset 16`; the caller names what held it.
 */
export function strictUtf8(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  const offset = firstIllFormedByte(bytes) ?? 0;
  const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, "0");
  throw new Error(`not valid UTF-8: byte 0x${byte} at offset ${offset}`);
}
