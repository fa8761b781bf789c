import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * @module Who may report leaked keys to `POST /v1/apiKeys:reportLeak` (docs/leak-reports.md):
 * secret scanners that sign their reports with an ECDSA P-256 key the operator lists in
 * HEARTH_LEAK_REPORT_PUBLIC_KEYS (GitHub's secret-scanning partner program), and others that send
 * the shared secret HEARTH_LEAK_REPORT_SECRET.
 */

/** One scanner public key: GitHub's `key_identifier` and the parsed ECDSA P-256 key. */
interface LeakReportPublicKey {
  readonly keyIdentifier: string;
  readonly key: KeyObject;
}

export interface LeakReportConfig {
  /** Keys whose signatures are accepted (empty: no signed reports). */
  readonly publicKeys: readonly LeakReportPublicKey[];
  /** The shared secret of other scanners, as bytes (undefined: none accepted). */
  readonly secret: Buffer | undefined;
}

class LeakReportConfigError extends Error {}

/** The shortest shared secret accepted: 32 characters, enough for 128 random bits in any common encoding. */
const MIN_SECRET_LENGTH = 32;

/**
 * The document GitHub publishes at https://api.github.com/meta/public_keys/secret_scanning. Fields
 * beyond these (GitHub may add some) are ignored; `is_current` does not matter here: a key stays
 * accepted while it is listed, so reports signed just before a rotation still verify.
 */
const keysDocument = z.object({
  public_keys: z
    .array(
      z.object({
        key_identifier: z.string().min(1).max(256),
        key: z.string().min(1),
        is_current: z.boolean().optional(),
      }),
    )
    .min(1, "must list at least one key"),
});

function fail(variable: string, message: string): never {
  throw new LeakReportConfigError(`invalid configuration: ${variable} ${message}`);
}

/** The document's text: the value itself when it is JSON (starts with `{`), else the file it names. */
function documentText(value: string): string {
  if (value.trimStart().startsWith("{")) return value;
  try {
    return readFileSync(value, "utf8");
  } catch (error) {
    return fail("HEARTH_LEAK_REPORT_PUBLIC_KEYS", `is neither JSON nor a readable file (${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${value})`);
  }
}

function parsePublicKeys(value: string): LeakReportPublicKey[] {
  let json: unknown;
  try {
    json = JSON.parse(documentText(value));
  } catch (error) {
    if (error instanceof LeakReportConfigError) throw error;
    return fail("HEARTH_LEAK_REPORT_PUBLIC_KEYS", `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = keysDocument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(
      "HEARTH_LEAK_REPORT_PUBLIC_KEYS",
      `${issue.path.join(".") || "document"}: ${issue.message} (expected {"public_keys":[{"key_identifier","key","is_current"}]})`,
    );
  }
  return parsed.data.public_keys.map((entry, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(entry.key);
    } catch {
      return fail("HEARTH_LEAK_REPORT_PUBLIC_KEYS", `public_keys.${i}.key is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      fail("HEARTH_LEAK_REPORT_PUBLIC_KEYS", `public_keys.${i}.key must be an ECDSA P-256 public key`);
    }
    return Object.freeze({ keyIdentifier: entry.key_identifier, key });
  });
}

/**
 * Parses the two settings once at start-up.
 * @param publicKeys HEARTH_LEAK_REPORT_PUBLIC_KEYS: GitHub's key document inline (JSON) or a path to a file holding it.
 * @param secret HEARTH_LEAK_REPORT_SECRET: at least 32 characters.
 * @throws an error starting "invalid configuration:" naming the variable, which stops start-up.
 */
export function loadLeakReportConfig(publicKeys: string | undefined, secret: string | undefined): LeakReportConfig {
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) fail("HEARTH_LEAK_REPORT_SECRET", `must be at least ${MIN_SECRET_LENGTH} characters`);
  return Object.freeze({
    publicKeys: Object.freeze(publicKeys === undefined ? [] : parsePublicKeys(publicKeys)),
    secret: secret === undefined ? undefined : Buffer.from(secret, "utf8"),
  });
}
