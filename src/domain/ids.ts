import { invalidArgument } from "./errors.ts";

/** Ids of accounts, users and resources: lowercase letters, digits and `-`, 1–63 chars, starting with a letter. */
const ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws INVALID_ARGUMENT naming `what` unless `id` is a valid id. */
export function checkId(id: string, what: string): string {
  if (!isValidId(id)) {
    throw invalidArgument(`invalid ${what} ${JSON.stringify(id)}: use 1-63 lowercase letters, digits or '-', starting with a letter`);
  }
  return id;
}

/**
 * Accepts an id or a full resource name and returns the id.
 * `collection` is the path before the id, e.g. `accounts/my-account/users`.
 */
export function idFromName(value: string, collection: string, what: string): string {
  const prefix = `${collection}/`;
  if (value.startsWith(prefix)) return checkId(value.slice(prefix.length), what);
  if (value.includes("/")) {
    throw invalidArgument(`invalid ${what} ${JSON.stringify(value)}: expected an id or a name like ${prefix}ID`);
  }
  return checkId(value, what);
}

/** A user id derived from an email: `Alice.Smith@Example.com` → `alice-smith-example-com`. */
export function idFromEmail(email: string): string {
  let id = email
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(id)) id = `u-${id}`;
  return id.slice(0, 63).replace(/-+$/, "");
}

export const userName = (accountId: string, userId: string): string => `accounts/${accountId}/users/${userId}`;
export const apiKeyName = (accountId: string, userId: string, keyId: string): string => `${userName(accountId, userId)}/apiKeys/${keyId}`;
export const quotaName = (accountId: string, quotaId: string): string => `accounts/${accountId}/quotas/${quotaId}`;

/** The generated email of a service account: `{userId}@{accountId}.{domain}`. */
export function serviceAccountEmail(userId: string, accountId: string, domain: string): string {
  return `${userId}@${accountId}.${domain}`;
}

// Printable ASCII only (checked first, with its own message); then RFC 5322's shape without
// quoted strings or comments in the local part, and an LDH host name with at least one dot.
const EMAIL_PATTERN = /^[^\s@"<>()\[\],;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const NOT_PRINTABLE_ASCII = /[^\x21-\x7e]/;

/** `text` quoted, with every character outside printable ASCII written as `\uXXXX`, so a message shows it rather than obeys it. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Throws INVALID_ARGUMENT (400) naming `what` unless `email` is an address Hearth accepts; returns
 * it lowercased.
 *
 * Accepted: printable ASCII only — a local part without spaces, quotes, brackets or `@`, and a
 * host name of letters, digits and `-` labels with at least one dot (RFC 5321 §4.1.2 dot-atom
 * and domain, without quoted local parts or address literals). Decision: no Unicode at all, as
 * most IAM systems do. That refuses every control, bidi and invisible format character (Unicode
 * Cc and Cf: U+202E would make `gpj.exe\u202e@example.com` read as another address, U+200B makes
 * `admin\u200b@example.com` look like `admin@example.com`), and every homoglyph host
 * (`exаmple.com` with a Cyrillic а). An internationalised domain is accepted in its A-label
 * (punycode, `xn--…`) form only, which shows what it is; internationalised local parts
 * (RFC 6531) are not supported.
 *
 * @param what the field named in the message, e.g. `email` or `--admin-email`.
 * @throws INVALID_ARGUMENT naming the field and, for a character outside printable ASCII, it as
 *   `U+XXXX at position N` (UTF-16 code units from 0).
 */
export function checkEmail(email: string, what = "email"): string {
  const odd = NOT_PRINTABLE_ASCII.exec(email);
  if (odd) {
    const code = odd[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw invalidArgument(
      `invalid ${what} ${quoted(email)}: U+${code} at position ${odd.index} is not allowed; an email address must be printable ASCII (write an internationalised domain in its xn-- form)`,
    );
  }
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
    throw invalidArgument(`invalid ${what} ${quoted(email)}`);
  }
  return email.toLowerCase();
}
