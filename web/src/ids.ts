/**
 * The HTML `pattern` of a resource id input (AIP-122): 1–63 lowercase letters, digits and `-`,
 * starting with a letter and ending with a letter or digit. Browsers compile `pattern` with the
 * RegExp `v` flag, where a literal `-` in a character class must be escaped: an invalid pattern is
 * silently dropped and the form submits anything.
 */
export const ID_INPUT_PATTERN = String.raw`[a-z](?:[a-z0-9\-]{0,61}[a-z0-9])?`;
