/**
 * @module Names an answer (or a stream chunk) with the `model` the client asked for, as Fireworks
 * echoes it, by editing the JSON text: the rest goes out as the backend sent it, never parsed and
 * serialised again (issue 17, item 3). An edit is made only where it is sure to leave valid JSON
 * whose top-level `model` is the requested name; anything else is left to the caller's parser.
 */

// The JSON string "model" in any spelling: each letter plain or as a `\u` escape (RFC 8259 §7).
const MODEL_TOKEN = /"(?:m|\\u006[dD])(?:o|\\u006[fF])(?:d|\\u0064)(?:e|\\u0065)(?:l|\\u006[cC])"/g;
// A `"model": "…"` member starting exactly at `lastIndex`, its value a whole JSON string.
const MODEL_MEMBER = /"model"[ \t\n\r]*:[ \t\n\r]*"(?:[^"\\]|\\.)*"/y;

/** The index of the first character at or after `at` that is not JSON whitespace (RFC 8259 §2). */
function skipSpace(text: string, at: number): number {
  while (at < text.length && (text[at] === " " || text[at] === "\t" || text[at] === "\n" || text[at] === "\r")) at++;
  return at;
}

/** Whether `at` is directly inside the outermost object or array of `json` (depth 1), outside any string. */
function atTopLevel(json: string, at: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < at; i++) {
    const c = json[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return !inString && depth === 1;
}

/**
 * `json` (one JSON object's text) with its top-level `model` set to `requested`: a `"model": "…"`
 * member replaced in place, or, when the text names no model at all, `"model": requested` added as
 * the object's first member.
 * @returns undefined when an edit cannot be sure of the result — "model" spelled more than once
 * (a duplicate key, a nested object's member, a value), with `\u` escapes, with a value that is not
 * a string, or a text that is not an object: the caller parses instead.
 */
export function namedAsRequested(json: string, requested: string): string | undefined {
  const member = `"model":${JSON.stringify(requested)}`;
  MODEL_TOKEN.lastIndex = 0;
  const first = MODEL_TOKEN.exec(json);
  if (first) {
    if (MODEL_TOKEN.exec(json)) return undefined;
    MODEL_MEMBER.lastIndex = first.index;
    const found = MODEL_MEMBER.exec(json);
    if (!found || !atTopLevel(json, found.index)) return undefined;
    return found[0] === member ? json : `${json.slice(0, found.index)}${member}${json.slice(found.index + found[0].length)}`;
  }
  const open = skipSpace(json, 0);
  if (json[open] !== "{") return undefined;
  const next = json[skipSpace(json, open + 1)];
  // `{}` takes the member alone, `{"…` takes it and a comma.
  if (next !== "}" && next !== '"') return undefined;
  return `${json.slice(0, open + 1)}${member}${next === "}" ? "" : ","}${json.slice(open + 1)}`;
}
