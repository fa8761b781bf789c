import { domainToASCII } from "node:url";
import { quoted } from "./display-text.ts";
import { normalizedEmail } from "./email-address.ts";
import { checkField, FIELD_RULES } from "./field-rules.ts";

/**
 * Whether `id` may name an existing account, user or resource: 1–63 lowercase letters, digits and
 * `-`, starting with a letter. Ids stored before the AIP-122 last-character rule (ending in `-`)
 * still pass; a new id must pass `checkId`.
 */
export function isValidId(id: string): boolean {
  return FIELD_RULES.storedId.problem(id) === undefined;
}

/**
 * Returns `id` when it is valid for a resource being created (AIP-122, RFC 1034 labels): 1–63
 * lowercase letters, digits and `-`, starting with a letter and ending with a letter or digit.
 * @throws ApiError INVALID_ARGUMENT naming `what` (e.g. `userId`, `account id`).
 */
export function checkId(id: string, what: string): string {
  return checkField(FIELD_RULES.id, what, id);
}

/**
 * A user id derived from an email: `Alice.Smith@Example.com` → `alice-smith-example-com`. A run of
 * letters outside ASCII becomes its punycode form (RFC 3492, as an A-label), so distinct
 * internationalised addresses get distinct ids: `иван@пример.рф` → `xn--80ac1bc-xn--e1afmkfd-xn--p1ai`.
 */
export function idFromEmail(email: string): string {
  let id = (
    email
      .normalize("NFC")
      .toLowerCase()
      .match(/[\p{L}\p{M}\p{N}]+/gu) ?? []
  )
    .map((run) => (/^[a-z0-9]+$/.test(run) ? run : domainToASCII(run).replace(/[^a-z0-9-]+/g, "-")))
    .join("-")
    .replace(/-{3,}/g, "--")
    .replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(id)) id = `u-${id}`;
  return id.slice(0, 63).replace(/-+$/, "");
}

/** The generated email of a service account: `{userId}@{accountId}.{domain}`. */
export function serviceAccountEmail(userId: string, accountId: string, domain: string): string {
  return `${userId}@${accountId}.${domain}`;
}

/**
 * Returns `email` NFC-normalised and lowercased when it is an address Hearth accepts (see
 * `email-address.ts`: RFC 5321 shape, internationalised addresses allowed, no invisible, format or
 * control character, one script per label after Unicode UTS #39 "highly restrictive").
 *
 * @param what the field named in the message, e.g. `email` or `--admin-email`.
 * @throws ApiError INVALID_ARGUMENT (400) naming the field and, for a refused character, it as
 *   `U+XXXX at position N` (UTF-16 code units from 0); the value is quoted with non-ASCII escaped.
 */
export function checkEmail(email: string, what = "email"): string {
  return normalizedEmail(checkField(FIELD_RULES.email, what, email));
}
