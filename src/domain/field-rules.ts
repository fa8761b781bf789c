/**
 * @module The rules of Hearth's named fields, one table: each rule is a predicate, the sentence that
 * refuses a value (naming the field, the value and the rule), and what JSON Schema can state of it
 * (`pattern`, `maxLength`, `enum`), which the request schemas carry into `/openapi.json`. Services
 * check with `checkField`; the HTTP edge checks with the same rule (`ruled` in `http/schemas.ts`),
 * so a value is refused with the same sentence wherever it arrives.
 */
import { invalidArgument } from "./errors.ts";
import { emailFault, type EmailFault } from "./email-address.ts";
import { readTimestamp, type TimestampFault } from "./rfc3339.ts";
import { codePoint, quoted, refusedCharacter } from "./display-text.ts";
import { canonicalIssuer } from "./issuer-identifier.ts";
import { isLoopbackHost } from "./sign-in.ts";
import { CUSTOM_ROLE, isRole, ROLES } from "./roles.ts";

/** What JSON Schema states of a rule; the predicate may check more (an email's scripts). */
interface SchemaFacts {
  pattern?: string;
  maxLength?: number;
  enum?: readonly string[];
  format?: string;
  description?: string;
}

/** One field rule. */
export interface FieldRule {
  /** Why `value` is refused, as the clause after `invalid FIELD "VALUE": `; undefined when it passes. */
  problem(value: string): string | undefined;
  /** The whole refusal, when it is not `invalid FIELD "VALUE": PROBLEM`. */
  sentence?(field: string, shown: string, problem: string): string;
  schema: SchemaFacts;
}

/**
 * A new resource id (AIP-122, RFC 1034 labels): 1–63 lowercase letters, digits and `-`, starting
 * with a letter and ending with a letter or digit.
 */
const NEW_ID = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An id as earlier versions stored it (a trailing `-` allowed), for naming existing resources. */
const STORED_ID = /^[a-z][a-z0-9-]{0,62}$/;
/**
 * A non-negative protobuf Duration in its JSON form (google.protobuf.Duration): whole seconds with up
 * to nine fractional digits and the suffix `s`, at most 315576000000s (10000 years), e.g. `86400s`.
 */
const DURATION = /^(\d{1,12})(\.\d{1,9})?s$/;

/** The longest display name, in UTF-16 code units (Fireworks: "shorter than 64 characters"). */
export const DISPLAY_NAME_MAX = 63;

/** Every sentence a field rule refuses with. */
export const FIELD_MESSAGES = {
  id: "use 1-63 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit (AIP-122)",
  storedId: "use 1-63 lowercase letters, digits or '-', starting with a letter",
  displayName: `must be shorter than ${DISPLAY_NAME_MAX + 1} characters`,
  plainText: (found: string) => `must not contain control or bidirectional-override characters (found ${found})`,
  role: `use one of ${ROLES.join(", ")} or ${CUSTOM_ROLE} (with a permissionPreset)`,
  builtInRole: `use one of ${ROLES.join(", ")}`,
  timestamp: "expected an RFC 3339 timestamp like 2026-01-31T12:00:00Z",
  timestampDate: (date: string, days: number | undefined) =>
    `${date} is not a date: ${days === undefined ? "months run from 01 to 12" : `that month has ${days} days`} (RFC 3339 §5.7)`,
  timestampTime: (time: string) => `${time} is not a time of day: hours run from 00 to 23, minutes and seconds from 00 to 59 (RFC 3339 §5.7)`,
  timestampOffset: (offset: string) => `${offset} is not an offset: its hours run from 00 to 23, its minutes from 00 to 59 (RFC 3339 §5.6)`,
  timestampRange: (after: boolean) =>
    after
      ? "in UTC it is after 9999-12-31T23:59:59Z, the last time RFC 3339 can write"
      : "in UTC it is before 0000-01-01T00:00:00Z, the first time RFC 3339 can write",
  duration: 'expected a protobuf Duration in seconds like "86400s" (0 to 315576000000 seconds)',
  url: "expected an https URL",
  urlParts: "expected an https URL without query or fragment",
  urlSpelling: (canonical: string) => `write it as ${JSON.stringify(canonical)}, exactly as the provider's discovery document names its issuer`,
  urlLength: "must be at most 512 characters",
  email: "expected an address like name@example.com",
  emailCharacter: (at: string) => `${at} is not allowed: an email address may not hold spaces or control, format or invisible characters`,
  emailALabel: (label: string) => `${JSON.stringify(label)} is not a valid internationalised domain label (A-label, RFC 5891)`,
  emailScripts: (at: string, script: string, among: string) =>
    `${at} is not allowed: a ${script} character among ${among} ones (the local part and each domain label keep to one script, per Unicode UTS #39 "highly restrictive")`,
  customRole: `"custom" (with a permissionPreset) is given to a user or service account, not here; use one of ${ROLES.join(", ")}`,
};

function plainTextProblem(value: string): string | undefined {
  const found = refusedCharacter(value);
  return found === undefined ? undefined : FIELD_MESSAGES.plainText(found);
}

/**
 * An OIDC issuer: an absolute https URL (plain http only on a loopback host, for development),
 * without query, fragment or credentials, written in its canonical spelling (`issuer-identifier.ts`:
 * another spelling of a registered issuer must not dodge the one-account rule), at most 512
 * characters. It is kept exactly as given: `iss` must equal it (OIDC Core §2).
 */
function issuerUrlProblem(value: string): string | undefined {
  const canonical = canonicalIssuer(value);
  if (canonical === undefined) return FIELD_MESSAGES.url;
  if (canonical !== value) return FIELD_MESSAGES.urlSpelling(canonical);
  const url = new URL(value);
  const insecureOk = url.protocol === "http:" && isLoopbackHost(url.hostname);
  if ((url.protocol !== "https:" && !insecureOk) || url.search || url.hash || url.username || url.password) return FIELD_MESSAGES.urlParts;
  return value.length > 512 ? FIELD_MESSAGES.urlLength : undefined;
}

/** The sentence of an email's fault (see `email-address.ts`). */
function emailProblem(value: string): string | undefined {
  const fault: EmailFault | undefined = emailFault(value);
  switch (fault?.kind) {
    case undefined:
      return undefined;
    case "character":
      return FIELD_MESSAGES.emailCharacter(`${codePoint(fault.char)} at position ${fault.index}`);
    case "shape":
      return FIELD_MESSAGES.email;
    case "aLabel":
      return FIELD_MESSAGES.emailALabel(fault.label);
    case "scripts": {
      const at = fault.aLabel === undefined ? `at position ${fault.index}` : `in the A-label ${JSON.stringify(fault.aLabel)}`;
      return FIELD_MESSAGES.emailScripts(`${codePoint(fault.char)} ${at}`, fault.script, fault.among);
    }
  }
}

/** The sentence of a timestamp's fault (see `rfc3339.ts`). */
function timestampProblem(value: string): string | undefined {
  const read = readTimestamp(value);
  if ("ms" in read) return undefined;
  const fault: TimestampFault = read.fault;
  switch (fault.kind) {
    case "shape":
      return FIELD_MESSAGES.timestamp;
    case "date":
      return FIELD_MESSAGES.timestampDate(fault.date, fault.days);
    case "time":
      return FIELD_MESSAGES.timestampTime(fault.time);
    case "offset":
      return FIELD_MESSAGES.timestampOffset(fault.offset);
    case "range":
      return FIELD_MESSAGES.timestampRange(fault.after);
  }
}

const byPattern = (pattern: RegExp, message: string) => (value: string) => (pattern.test(value) ? undefined : message);

/** The rules, by the kind of field they govern. */
export const FIELD_RULES = {
  /** The id of a resource being created (`?userId=`, `?modelId=`, `hearth account create ID`, …). */
  id: { problem: byPattern(NEW_ID, FIELD_MESSAGES.id), schema: { pattern: NEW_ID.source, maxLength: 63 } },
  /** The id naming an existing resource (a path segment): ids stored before AIP-122's last-character rule keep working. */
  storedId: { problem: byPattern(STORED_ID, FIELD_MESSAGES.storedId), schema: { pattern: STORED_ID.source, maxLength: 63 } },
  /** An email address; see `email-address.ts`. */
  email: { problem: emailProblem, schema: { maxLength: 254, description: "An email address, NFC-normalised and lowercased; one script per label (UTS #39)" } },
  /** Text shown to people (a description, a URL): no control, format or bidi character (`refusedCharacter`). */
  plainText: { problem: plainTextProblem, schema: {} },
  /** A display name (shown in lists, the console and the audit log): plain text shorter than 64 characters. */
  displayName: {
    problem: (v: string) => plainTextProblem(v) ?? (v.length > DISPLAY_NAME_MAX ? FIELD_MESSAGES.displayName : undefined),
    schema: { maxLength: DISPLAY_NAME_MAX },
  },
  /** An identity provider's issuer URL (`oidcConfig.issuerUrl`); see `issuerUrlProblem`. */
  issuerUrl: { problem: issuerUrlProblem, schema: { maxLength: 512, pattern: "^https?://", format: "uri" } },
  /** A point in time (RFC 3339), e.g. `expireTime`, `startTime`; see `readTimestamp`. */
  timestamp: { problem: timestampProblem, schema: { format: "date-time" } },
  /** A length of time (protobuf Duration JSON), e.g. `gracePeriod`, `maxKeyLifetime`. */
  duration: {
    problem: (v: string) => {
      const m = DURATION.exec(v);
      return m && Number(m[1]) <= 315_576_000_000 ? undefined : FIELD_MESSAGES.duration;
    },
    schema: { pattern: DURATION.source },
  },
  /** A user's or service account's role: a built-in role, or `custom` (Fireworks) with a permissionPreset. */
  role: {
    problem: (v: string) => (v === CUSTOM_ROLE || isRole(v) ? undefined : FIELD_MESSAGES.role),
    sentence: (field: string, shown: string, problem: string) => `unknown ${field} ${shown}: ${problem}`,
    schema: { enum: [...ROLES, CUSTOM_ROLE] },
  },
  /** A built-in role, where no preset can go with it (an identity provider's `jitDefaultRole`, the operator's set-role). */
  builtInRole: {
    problem: (v: string) => (v === CUSTOM_ROLE ? FIELD_MESSAGES.customRole : isRole(v) ? undefined : FIELD_MESSAGES.builtInRole),
    sentence: (field: string, shown: string, problem: string) =>
      problem === FIELD_MESSAGES.builtInRole ? `unknown ${field} ${shown}: ${problem}` : `${field} ${problem}`,
    schema: { enum: ROLES },
  },
} satisfies Record<string, FieldRule>;

/** The refusal of `value` under `rule`, naming `field` (e.g. `userId`, `admin email`), or undefined when it passes. */
export function refusal(rule: FieldRule, field: string, value: string): string | undefined {
  const problem = rule.problem(value);
  if (problem === undefined) return undefined;
  const shown = quoted(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return rule.sentence ? rule.sentence(field, shown, problem) : `invalid ${field} ${shown}: ${problem}`;
}

/**
 * Returns `value` when it passes `rule`.
 * @throws ApiError INVALID_ARGUMENT (400) with the rule's sentence naming `field`.
 */
export function checkField(rule: FieldRule, field: string, value: string): string {
  const refused = refusal(rule, field, value);
  if (refused !== undefined) throw invalidArgument(refused);
  return value;
}

/** `name` when it is a valid display name. @throws ApiError INVALID_ARGUMENT naming `displayName`. */
export const checkDisplayName = (name: string): string => checkField(FIELD_RULES.displayName, "displayName", name);
