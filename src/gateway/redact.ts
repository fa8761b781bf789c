/**
 * @module Removes credentials from text a backend sent before Hearth relays, logs or audits it.
 * Some OpenAI-compatible servers repeat the request's `Authorization` header in their error
 * messages ("you sent authorization=Bearer sk-…"); relaying that would hand the backend's key to
 * every caller of the gateway.
 */

/** What a removed credential reads as. */
export const REDACTED = "[redacted]";

// RFC 6750 §2.1 b64token after an auth scheme; an OpenAI-style secret key (`sk-…`, `sk-proj-…`);
// `api_key=…` / `x-api-key: …` style assignments. Case-insensitive, like the header names.
const SCHEME_TOKEN = /\b(Bearer|Basic)(\s+|%20|=|:\s*)[A-Za-z0-9\-._~+/]+=*/gi;
const SECRET_KEY = /\bsk-[A-Za-z0-9_-]{8,}/g;
const KEY_ASSIGNMENT = /\b((?:x-)?api[-_]?key["']?\s*[=:]\s*["']?)[^\s"',;&]+/gi;

/**
 * The backend's own credential, anywhere in `text`, replaced by `[redacted]`. Cheap enough for
 * every relayed chunk of a successful answer (a plain substring test first). A key shorter than
 * 8 characters is not searched for: it would match ordinary words, and such a key is no secret.
 */
export function redactKey(text: string, apiKey: string | undefined): string {
  if (!apiKey || apiKey.length < 8 || !text.includes(apiKey)) return text;
  return text.split(apiKey).join(REDACTED);
}

/**
 * An upstream error message (or any upstream string bound for a client, a log line or the audit
 * log) with the backend's credential and every bearer-looking token removed: `Bearer x`, `Basic x`,
 * `sk-…` secret keys and `api_key=x` assignments. Model output is not passed through this (it may
 * legitimately talk about tokens); only error text is.
 */
export function redactUpstreamText(text: string, apiKey: string | undefined): string {
  return redactKey(text, apiKey)
    .replace(SCHEME_TOKEN, (_m, scheme: string, sep: string) => `${scheme}${sep}${REDACTED}`)
    .replace(SECRET_KEY, REDACTED)
    .replace(KEY_ASSIGNMENT, (_m, prefix: string) => `${prefix}${REDACTED}`);
}
