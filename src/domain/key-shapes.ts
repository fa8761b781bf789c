/**
 * @module Text that must never carry an API key: a refusal's message quotes what the caller sent
 * (`invalid keyId "…"`), and a caller may send a key where it does not belong. Every `ApiError`
 * message passes through `withoutKeys`, so neither a response, a log line nor an audit entry echoes
 * one, whichever field it arrived in.
 */

/**
 * A run with an API key's shape (`api-key-format.ts`): a prefix of `KEY_PREFIX_SYNTAX` (1–8 lowercase
 * letters or digits, then `_`), then 20 or more base62 characters — a key (22 + 6 characters after
 * the prefix) or one mistyped or cut short. Resource ids cannot match: they hold no `_` (AIP-122).
 */
const KEY_SHAPED_RUN = /(?<![0-9A-Za-z_])([a-z][a-z0-9]{0,7}_)[0-9A-Za-z]{20,}/g;

/** `text` with every key-shaped run replaced by its prefix and `[redacted]` (`hk_[redacted]`). */
export function withoutKeys(text: string): string {
  return text.includes("_") ? text.replace(KEY_SHAPED_RUN, "$1[redacted]") : text;
}
