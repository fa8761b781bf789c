/**
 * How deeply a JSON text nests, found by one pass over its characters without parsing it.
 * `JSON.parse` itself copes with any depth, but later recursive code (serialising a body upstream,
 * validation) does not: a body nested thousands deep would end in a stack overflow, a 500.
 */
export const MAX_JSON_DEPTH = 128;

/** True when `text` opens more than `max` arrays or objects inside one another. */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
