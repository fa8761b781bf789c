/**
 * @module Names an answer (or a stream chunk) with the `model` the client asked for, as Fireworks
 * echoes it, by editing the JSON text: the rest goes out as the backend sent it, never parsed and
 * serialised again (issue 17, item 3).
 */

// The first `"model": "…"` member of a JSON text. A string value cannot hold it unescaped (its
// quotes would be `\"`), so a match is a member; an OpenAI answer names its model before its choices.
const MODEL_MEMBER = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/;

/** The index of the first character at or after `at` that is not JSON whitespace (RFC 8259 §2). */
function skipSpace(text: string, at: number): number {
  while (at < text.length && (text[at] === " " || text[at] === "\t" || text[at] === "\n" || text[at] === "\r")) at++;
  return at;
}

/**
 * `text` with its `model` set to `requested`: the first `"model": "…"` member replaced in place;
 * or, when the text names no `"model"` at all, `"model": requested` added as the first member of
 * the JSON object whose `{` is the first non-whitespace character at or after `objectStart` (0 for
 * an answer's JSON; see `sseDataStart` for a stream event).
 * @returns undefined when neither edit is sure to give valid JSON (a `model` that is not a string,
 * a text that is not an object there, an object spread over several SSE data lines): the caller
 * parses instead.
 */
export function namedAsRequested(text: string, requested: string, objectStart = 0): string | undefined {
  const member = `"model":${JSON.stringify(requested)}`;
  const found = MODEL_MEMBER.exec(text);
  if (found) return found[0] === member ? text : `${text.slice(0, found.index)}${member}${text.slice(found.index + found[0].length)}`;
  if (objectStart < 0 || text.includes('"model"')) return undefined;
  const open = skipSpace(text, objectStart);
  if (text[open] !== "{") return undefined;
  const next = text[skipSpace(text, open + 1)];
  // `{}` takes the member alone; `{"…` takes it and a comma; anything else (a new SSE line) is left to the parser.
  if (next !== "}" && next !== '"') return undefined;
  return `${text.slice(0, open + 1)}${member}${next === "}" ? "" : ","}${text.slice(open + 1)}`;
}

/**
 * Where the value of an SSE event's first `data:` line starts in its raw text (after the one
 * optional space the WHATWG HTML event-stream format allows), or -1 when it has no data line.
 */
export function sseDataStart(raw: string): number {
  const line = raw.startsWith("data:") ? 0 : raw.indexOf("\ndata:") + 1;
  if (line === 0 && !raw.startsWith("data:")) return -1;
  return raw.startsWith("data: ", line) ? line + 6 : line + 5;
}
