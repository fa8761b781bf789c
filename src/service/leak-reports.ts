import { createHash, timingSafeEqual, verify } from "node:crypto";
import { digestKey, hasValidChecksum } from "../domain/api-key-format.ts";
import { ApiError, unauthenticated } from "../domain/errors.ts";
import { apiKeyName } from "../domain/resource-names.ts";
import type { LeakReportConfig } from "../leak-report-config.ts";
import { findKeyByDigest, findTombstone } from "../store/api-keys.ts";
import { claimLeakReport, finishLeakReport, releaseLeakReport } from "../store/leak-reports.ts";
import type { Db } from "../store/store.ts";
import type { ApiKeyRow } from "../store/schema.ts";
import { announceDisabled, disableApiKeyRow, disableMadeThrough } from "./api-key-lifecycle.ts";
import { writeAudit } from "./audit.ts";
import type { Deps, RequestMeta } from "./context.ts";
import { enqueueWebhookEvent } from "./webhook-events.ts";

/**
 * @module Leak response: a secret scanner (GitHub's secret-scanning partner program, or any other
 * holding the shared secret) reports tokens it found in public; every one that is a Hearth key is
 * disabled (`EXPOSED`) within the request, announced (`api_key.leaked`) and audited in its account.
 */

/** One finding, in GitHub's secret-scanning partner format. */
export interface LeakFinding {
  /** The token as found (a Hearth key, or anything else matching the scanner's pattern). */
  token: string;
  /** The scanner's name for the pattern that matched. */
  type: string;
  /** Where it was found (a commit, an issue comment, a gist…). */
  url: string;
  /** What kind of place that is (`content`, `commit`, `npm`…). */
  source: string;
  /** Which of `url`, `type` and `source` were cut short, being longer than Hearth keeps; absent when none. */
  truncated?: readonly ("url" | "type" | "source")[];
}

/** Who sent a report that verified: a signing key (its identifier) or the shared secret. */
export type LeakReporter = { via: "signature"; keyIdentifier: string } | { via: "secret" };

/** The credential headers a report may carry (values as received; absent ones undefined). */
export interface LeakReportCredentials {
  /** `Github-Public-Key-Signature`: base64 of an ASN.1 DER ECDSA P-256 / SHA-256 signature over the raw body. */
  signature?: string | undefined;
  /** `Github-Public-Key-Identifier`: which configured key signed it. */
  keyIdentifier?: string | undefined;
  /** `x-hearth-leak-report-secret`: HEARTH_LEAK_REPORT_SECRET. */
  secret?: string | undefined;
}

/** How the audit log names the reporter: not an account's principal, so no email (compare "operator"). */
const LEAK_REPORTER_PRINCIPAL = "secret-scanner";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const sha256 = (bytes: Buffer): Buffer => createHash("sha256").update(bytes).digest();

/**
 * Checks a report's credential before anything in it is read.
 * @param body the body's exact text (the signature covers its UTF-8 bytes).
 * @returns who sent it.
 * @throws UNAUTHENTICATED (401) when the operator accepts no reports, the credential is missing, the
 * key identifier is not configured, the signature does not verify, or the secret is wrong.
 */
export function verifyLeakReport(config: LeakReportConfig, credentials: LeakReportCredentials, body: string): LeakReporter {
  if (config.publicKeys.length === 0 && config.secret === undefined) {
    throw unauthenticated("this server takes no leak reports: its operator set neither HEARTH_LEAK_REPORT_PUBLIC_KEYS nor HEARTH_LEAK_REPORT_SECRET");
  }
  if (credentials.signature !== undefined) {
    const entry = config.publicKeys.find((k) => k.keyIdentifier === credentials.keyIdentifier);
    if (!entry) throw unauthenticated("the Github-Public-Key-Identifier header names no key this server accepts leak reports from");
    const signature = credentials.signature.trim();
    let valid = false;
    if (signature.length <= 256 && BASE64.test(signature)) {
      try {
        valid = verify("sha256", Buffer.from(body, "utf8"), { key: entry.key, dsaEncoding: "der" }, Buffer.from(signature, "base64"));
      } catch {
        valid = false;
      }
    }
    if (!valid) throw unauthenticated("the Github-Public-Key-Signature header is not a valid signature of this request body");
    return { via: "signature", keyIdentifier: entry.keyIdentifier };
  }
  if (credentials.secret !== undefined && config.secret !== undefined) {
    // Digests first: equal lengths for timingSafeEqual, and no early exit on the secret's length.
    if (timingSafeEqual(sha256(Buffer.from(credentials.secret, "utf8")), sha256(config.secret))) return { via: "secret" };
    throw unauthenticated("the x-hearth-leak-report-secret header is not this server's leak report secret");
  }
  throw unauthenticated("sign the leak report (Github-Public-Key-Signature, Github-Public-Key-Identifier) or send x-hearth-leak-report-secret");
}

/** How long a request acting on a report holds it: another request with the same report waits it out (503) unless it ends first. */
const REPORT_CLAIM_MS = 10 * 60 * 1000;

/**
 * Acts on each finding: a token that is a Hearth key (valid checksum, a stored digest) is disabled
 * with reason `EXPOSED`, and in the same transaction `api_key.leaked` (and `api_key.disabled`, when
 * it was enabled) is queued and an entry naming the URL is written in the key's account, as
 * principal "secret-scanner". The keys made through it are disabled with it (`disableApiKeyRow`),
 * each with its `api_key.disabled`; the entry names them (`alsoDisabled`). Each disabled key's
 * cache entry is invalidated on every process after the commit, so its next request is refused.
 * Anything else is ignored, and a token repeated in the report is acted on once; the caller answers
 * the same whatever was found (the answer does not tell which tokens are real).
 *
 * A signed report is acted on once: GitHub's signature covers only the body (no nonce, no time), so
 * whoever captured a signed report could send it again, after an admin re-enabled a key judged safe,
 * to disable it anew. Once every finding is handled the body's SHA-256 is stored; the same body again
 * changes nothing and gets the same answer. (A report with the shared secret is acted on each time:
 * its credential is in the request, so a replay of it is no weaker than a new report.) The report
 * is claimed before any finding is acted on (`claimLeakReport`), so the same report sent again while
 * the first is still being acted on (a captured report replayed at once, or a scanner's retry after
 * a timeout) is answered 503 and acts on nothing; a report that failed part way gives up its claim,
 * so the scanner's retry is acted on (and one whose process died is taken over once its claim
 * lapses, REPORT_CLAIM_MS).
 * @param body the report's exact text, as verified (`verifyLeakReport`).
 * @throws UNAVAILABLE (503) when an audit entry cannot be written (that key's change is rolled back),
 * or when another request is acting on the same report.
 */
export async function actOnLeakReport(deps: Deps, reporter: LeakReporter, body: string, findings: readonly LeakFinding[], meta: RequestMeta): Promise<void> {
  // The shared secret travels with its report: whoever could send one again could send any report,
  // so remembering it protects nothing, and would swallow the scanner's next finding of a key an
  // admin re-enabled whenever its body came out the same (a scanner that sends no url, say).
  if (reporter.via === "secret") return actOnFindings(deps, reporter, findings, meta);
  const reportDigest = sha256(Buffer.from(body, "utf8")).toString("hex");
  const claimTime = deps.clock.now();
  const claim = await claimLeakReport(deps.store.db, reportDigest, claimTime, REPORT_CLAIM_MS);
  if (claim === "done") return;
  if (claim === "busy") throw new ApiError("UNAVAILABLE", "this report is being acted on by another request; send it again later", { "retry-after": "5" });
  try {
    await actOnFindings(deps, reporter, findings, meta);
  } catch (error) {
    await releaseLeakReport(deps.store.db, reportDigest, claimTime).catch(() => undefined);
    throw error;
  }
  await finishLeakReport(deps.store.db, reportDigest, claimTime);
}

async function actOnFindings(deps: Deps, reporter: LeakReporter, findings: readonly LeakFinding[], meta: RequestMeta): Promise<void> {
  // A token found in several places is acted on once per report (its first finding): 300 copies of
  // one key would otherwise write 300 entries and events.
  const seen = new Set<string>();
  for (const finding of findings) {
    if (!hasValidChecksum(finding.token)) continue;
    const digest = digestKey(finding.token);
    if (seen.has(digest)) continue;
    seen.add(digest);
    const keyIds = await deps.store.db.transaction().execute(async (trx) => {
      const row = await findKeyByDigest(trx, digest);
      if (!row) return actOnDeletedKey(deps, trx, reporter, finding, digest, meta);
      const wasEnabled = row.state === "ENABLED";
      const others = await disableApiKeyRow(trx, row, "EXPOSED");
      await recordReport(deps, trx, { reporter, finding, meta }, row, others, { wasEnabled });
      return [row.id, ...others.map((k) => k.id)];
    });
    for (const id of keyIds ?? []) await deps.cluster.invalidator.key(id);
  }
}

/** What a report is and where it came from. */
interface Report {
  reporter: LeakReporter;
  finding: LeakFinding;
  meta: RequestMeta;
}

/**
 * Announces and audits one reported key (`key`, live or deleted), in `trx`: `api_key.leaked`
 * (with `deleted: true` for a deleted key), `api_key.disabled` for the key when it was enabled
 * and for each of `others` (the keys made through it, disabled with it), and the `ReportApiKeyLeak`
 * entry in its account, as principal "secret-scanner", naming them (`alsoDisabled`) and the
 * finding's fields that were cut short (`truncated`).
 */
async function recordReport(
  deps: Deps,
  trx: Db,
  { reporter, finding, meta }: Report,
  key: { account_id: string; user_id: string; id: string },
  others: readonly ApiKeyRow[],
  how: { wasEnabled: boolean } | { deleted: true },
): Promise<void> {
  const name = apiKeyName(key.account_id, key.user_id, key.id);
  const found = { url: finding.url, source: finding.source, type: finding.type };
  const deleted = "deleted" in how;
  const now = deps.clock.now();
  await enqueueWebhookEvent(trx, key.account_id, "api_key.leaked", { apiKey: name, disableReason: "EXPOSED", ...(deleted ? { deleted } : {}), ...found }, now);
  if (!deleted && how.wasEnabled) await enqueueWebhookEvent(trx, key.account_id, "api_key.disabled", { apiKey: name, disableReason: "EXPOSED" }, now);
  const alsoDisabled = await announceDisabled(trx, others, "EXPOSED", now);
  const reportedBy = reporter.via === "signature" ? { keyIdentifier: reporter.keyIdentifier } : { sharedSecret: true };
  await writeAudit(
    trx,
    { accountId: key.account_id, email: LEAK_REPORTER_PRINCIPAL, apiKeyId: "", meta },
    {
      method: "ReportApiKeyLeak",
      resource: name,
      isAdminAction: true,
      payload: {
        ...found,
        ...(finding.truncated ? { truncated: finding.truncated } : {}),
        ...(deleted ? { deleted } : { disableReason: "EXPOSED" }),
        reportedBy,
        ...(alsoDisabled.length > 0 ? { alsoDisabled } : {}),
      },
    },
  );
}

/**
 * A reported token that is no live key but the secret of a deleted one that had keys made through
 * it (a tombstone): whoever holds it may hold those too, so they are disabled (`EXPOSED`), and the
 * report is announced (`api_key.leaked`) and audited in its account, naming the deleted key
 * (`deleted: true`). Returns the disabled keys' ids; undefined when the token is no tombstone either.
 */
async function actOnDeletedKey(deps: Deps, trx: Db, reporter: LeakReporter, finding: LeakFinding, digest: string, meta: RequestMeta) {
  const tomb = await findTombstone(trx, digest);
  if (!tomb) return undefined;
  const others = await disableMadeThrough(trx, tomb.id, "EXPOSED");
  await recordReport(deps, trx, { reporter, finding, meta }, tomb, others, { deleted: true });
  return others.map((k) => k.id);
}
