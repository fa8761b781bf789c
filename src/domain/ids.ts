import { invalidArgument } from "./errors.ts";

/** Ids of accounts, users and resources: lowercase letters, digits and `-`, 1–63 chars, starting with a letter. */
const ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws INVALID_ARGUMENT naming `what` unless `id` is a valid id. */
export function checkId(id: string, what: string): string {
  if (!isValidId(id)) {
    throw invalidArgument(
      `invalid ${what} ${JSON.stringify(id)}: use 1-63 lowercase letters, digits or '-', starting with a letter`,
    );
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
  let id = email.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(id)) id = `u-${id}`;
  return id.slice(0, 63).replace(/-+$/, "");
}

export const accountName = (accountId: string): string => `accounts/${accountId}`;
export const userName = (accountId: string, userId: string): string => `accounts/${accountId}/users/${userId}`;
export const apiKeyName = (accountId: string, userId: string, keyId: string): string =>
  `${userName(accountId, userId)}/apiKeys/${keyId}`;
export const quotaName = (accountId: string, quotaId: string): string => `accounts/${accountId}/quotas/${quotaId}`;

/** The generated email of a service account (SPEC §3.1). */
export function serviceAccountEmail(userId: string, accountId: string, domain: string): string {
  return `${userId}@${accountId}.${domain}`;
}

// No control characters either (CR, LF, ESC…): an email ends up in audit entries and response headers.
const EMAIL_PATTERN = /^[^\s\u0000-\u001f\u007f@"<>()\[\],;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Throws INVALID_ARGUMENT unless `email` looks like an address; returns it lowercased. */
export function checkEmail(email: string): string {
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
    throw invalidArgument(`invalid email ${JSON.stringify(email)}`);
  }
  return email.toLowerCase();
}
