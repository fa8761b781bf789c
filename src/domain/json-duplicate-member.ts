/**
 * The first member name an object of a JSON text holds twice, found by one pass over its
 * characters. RFC 8259 §4 leaves such an object's meaning to each reader: `JSON.parse` keeps the
 * last value silently, while a proxy, a log or another parser in front may act on the first.
 */

/**
 * The name (decoded: `"a"` and `"\u0061"` are one name) that some object of `text` gives twice, or
 * undefined when every object's names are distinct.
 * @param text a valid JSON text (already parsed): the scan only tells names from values.
 */
export function duplicateMember(text: string): string | undefined {
  // One entry per open container: the names seen so far in an object, undefined for an array.
  const open: Array<Set<string> | undefined> = [];
  let atName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) {
          i++; // backslash: skip the escaped character
          escaped = true;
        }
      }
      if (!atName) continue;
      atName = false;
      const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
      const names = open.at(-1)!;
      if (names.has(name)) return name;
      names.add(name);
    } else if (c === 0x7b) {
      open.push(new Set());
      atName = true;
    } else if (c === 0x5b) {
      open.push(undefined);
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      atName = false;
    } else if (c === 0x2c) {
      atName = open.at(-1) !== undefined;
    }
  }
  return undefined;
}
