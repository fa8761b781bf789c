/**
 * @module Removes credentials from text a backend sent before Hearth relays, logs or audits it.
 * Some OpenAI-compatible servers repeat the request's `Authorization` header in their error
 * messages ("you sent authorization=Bearer sk-…"); relaying that would hand the backend's key to
 * every caller of the gateway. A key is just as leaked when it comes back encoded, so the
 * backend's own key is searched for in every spelling a reader decodes without effort: raw,
 * JSON string escapes (`\u0073`, `\/`), percent-encoding (either case of hex digit), hex, and
 * base64 / base64url at each of the three byte alignments (so `Bearer <key>` and `Basic
 * base64(user:<key>)` are caught too). The key's secret part without its kind prefix (`sk-`,
 * `sk-proj-`, `fw_`) is searched for the same way.
 */

/** What a removed credential reads as. */
const REDACTED = "[redacted]";

// RFC 6750 §2.1 b64token after an auth scheme; an OpenAI-style secret key (`sk-…`, `sk-proj-…`);
// `api_key=…` / `x-api-key: …` style assignments. Case-insensitive, like the header names. A
// percent-encoded separator or token character (`Bearer%20sk%2D…`) counts as the character.
const SCHEME_TOKEN = /\b(Bearer|Basic)(\s+|%20|\+|=|%3D|:\s*|%3A)(?:[A-Za-z0-9\-._~+/]|%[0-9A-F]{2})+=*/gi;
const SECRET_KEY = /\bsk-(?:[A-Za-z0-9_-]|%2D|%5F){8,}/gi;
const KEY_ASSIGNMENT = /\b((?:x-)?api[-_]?key["']?\s*(?:[=:]|%3D|%3A)\s*["']?)[^\s"',;&]+/gi;
// Runs that may be base64/base64url or hex of a credential: decoded and judged by what they hold.
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /\b(?:[0-9a-f]{2}){8,}\b/gi;
const AROUND_REDACTED = /[A-Za-z0-9+/_-]*\[redacted\][A-Za-z0-9+/_-]*={0,2}/g;
const CREDENTIAL_INSIDE = /\b(?:bearer|basic)[\s:=]|\bsk-[A-Za-z0-9_-]{8}|api[-_]?key\s*[=:]/i;

/** The search for one backend key, built once per key (a handful of backends per process). */
interface KeySearch {
  /** Spellings found with a plain substring test: the key, its hex and its base64 cores. */
  literals: string[];
  /** The same spellings with any character JSON-escaped or percent-encoded. */
  escaped: RegExp;
}

const searches = new Map<string, KeySearch>();

/**
 * The part of base64(prefix of `offset` bytes + key) that depends on the key alone: characters
 * whose 6 bits all fall inside the key's bytes. Any base64 text holding the key at that byte
 * alignment holds this core, whatever comes before or after it (`Bearer `, `user:`).
 */
function base64Core(key: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), key])
    .toString("base64")
    .replace(/=+$/, "");
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + key.length)) / 6));
}

/** `c` literally, as a JSON `\u00XX` escape, as `%XX` (hex digits in either case), and `/` as `\/`. */
function charPattern(c: string): string {
  const code = c.charCodeAt(0);
  const literal = c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  if (code > 0x7e) return literal; // keys are ASCII in practice; a non-ASCII character matches as itself
  const hex = code.toString(16).padStart(2, "0");
  const anyCase = [...hex].map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d)).join("");
  return `(?:${literal}|%${anyCase}|\\\\u00${anyCase}${c === "/" ? "|\\\\/" : ""})`;
}

// A key's public kind before its secret part: `sk-`, `sk-proj-`, `fw_`, `gsk_`, `xai-`.
const KIND_PREFIX = /^[a-z]{2,4}[-_](?:proj[-_])?/;

/** The spellings of `secret` found with a substring test: itself, its hex in both cases, its base64 and base64url cores. */
function literalSpellings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const hex = bytes.toString("hex");
  const cores = [0, 1, 2].map((offset) => base64Core(bytes, offset));
  const urlCores = cores.map((core) => core.replace(/\+/g, "-").replace(/\//g, "_"));
  return [secret, hex, hex.toUpperCase(), ...cores, ...urlCores];
}

function searchFor(apiKey: string): KeySearch {
  let search = searches.get(apiKey);
  if (!search) {
    // The key without its kind prefix is as secret as the key: searched for when 16 characters or more remain.
    const secretPart = apiKey.replace(KIND_PREFIX, "");
    const parts = secretPart !== apiKey && secretPart.length >= 16 ? [apiKey, secretPart] : [apiKey];
    const literals = [...new Set(parts.flatMap(literalSpellings))].filter((s) => s.length >= 8);
    const escaped = new RegExp(literals.map((s) => [...s].map(charPattern).join("")).join("|"), "g");
    search = { literals, escaped };
    searches.set(apiKey, search);
  }
  return search;
}

/**
 * The backend's own credential, in any of the spellings above, replaced by `[redacted]` in
 * `text`. A key shorter than 8 characters is not searched for: it would match ordinary words, and
 * such a key is no secret.
 *
 * Cost: this runs on every relayed body and every streamed event of a successful answer. The
 * common path is a few substring tests (`includes`, a fast native scan) for the literal spellings;
 * the escape-aware regular expression — linear, a fixed alternation without nested repetition —
 * runs only when the text holds a `%` or a `\`, the only ways an escaped spelling can appear.
 * Checking decoded JSON strings instead would mean parsing every successful body a second time.
 */
export function redactKey(text: string, apiKey: string | undefined): string {
  if (!apiKey || apiKey.length < 8) return text;
  const { literals, escaped } = searchFor(apiKey);
  let out = text;
  for (const literal of literals) {
    if (out.includes(literal)) out = out.split(literal).join(REDACTED);
  }
  if (out.includes("%") || out.includes("\\")) out = out.replace(escaped, REDACTED);
  // A base64 core leaves the run's edge characters (`QmVhcmVyIH[redacted]Q==`); take the whole run.
  return out === text ? out : out.replace(AROUND_REDACTED, REDACTED);
}

/** A base64/base64url or hex run replaced when what it decodes to looks like a credential. */
function redactEncodedCredentials(text: string): string {
  const judge = (run: string, decoded: string) => (CREDENTIAL_INSIDE.test(decoded) ? REDACTED : run);
  return text
    .replace(HEX_RUN, (run) => judge(run, Buffer.from(run, "hex").toString("latin1")))
    .replace(BASE64_RUN, (run) => judge(run, Buffer.from(run, "base64").toString("latin1")));
}

/**
 * An upstream error message (or any upstream string bound for a client, a log line or the audit
 * log) with the backend's credential and every bearer-looking token removed: `Bearer x`, `Basic x`,
 * `sk-…` secret keys and `api_key=x` assignments, also percent-encoded, and base64 or hex runs
 * that decode to one of those. Model output is not passed through this (it may legitimately talk
 * about tokens); only error text is, and error text is short and rare, so it affords the decoding.
 */
export function redactUpstreamText(text: string, apiKey: string | undefined): string {
  return redactEncodedCredentials(redactKey(text, apiKey))
    .replace(SCHEME_TOKEN, (_m, scheme: string, sep: string) => `${scheme}${sep}${REDACTED}`)
    .replace(SECRET_KEY, REDACTED)
    .replace(KEY_ASSIGNMENT, (_m, prefix: string) => `${prefix}${REDACTED}`);
}

/**
 * Every string inside parsed JSON `value` passed through `redactUpstreamText`: an upstream error
 * object judged after its JSON escapes are decoded (`\u0073k-…` is `sk-…`).
 */
export function redactUpstreamJson(value: unknown, apiKey: string | undefined, depth = 0): unknown {
  if (typeof value === "string") return redactUpstreamText(value, apiKey);
  if (depth > 20 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactUpstreamJson(v, apiKey, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactUpstreamText(k, apiKey), redactUpstreamJson(v, apiKey, depth + 1)]));
}
