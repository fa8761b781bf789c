/**
 * @module The AuditLog entry as the API returns it.
 */
import { z } from "zod";
import { listPage, status, timestamp } from "./common.ts";

/** One audit log entry (`accounts/{accountId}/auditLogs/{id}`), newest first in lists. */
const auditLog = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/auditLogs/01J9ZQ3V7K"] }),
    id: z.string(),
    timestamp,
    /** Who acted: an email, "operator", or the address of an unauthenticated attempt. */
    principal: z.string(),
    /** The same as `principal` (the name Fireworks uses). */
    email: z.string(),
    /**
     * The acting principal's uid (the User's `uid`): tells a deleted principal's entries from those of
     * a later one with the same email. Empty for the operator and for unauthenticated attempts.
     */
    principalUid: z.string(),
    method: z.string().meta({ examples: ["CreateApiKey"] }),
    resource: z.string(),
    message: z.string(),
    /**
     * The outcome, in the same form as every resource's `status`: the google.rpc code name ("OK",
     * "PERMISSION_DENIED", …) and the recorded message ("PERMISSION_DENIED: sentence"; "" for OK).
     */
    status,
    payload: z.unknown(),
    isAdminAction: z.boolean(),
    userAgent: z.string(),
    clientIp: z.string(),
    apiKeyId: z.string(),
  })
  .meta({ id: "AuditLog" });
export type AuditLog = z.output<typeof auditLog>;

export const auditLogList = listPage("auditLogs", auditLog).meta({ id: "ListAuditLogsResponse" });

/** An export (`:export`): JSON Lines (a header line, then entries and checkpoints) or CSV (docs/audit-log.md). */
export const auditLogExport = z.string().meta({ description: "JSON Lines (format=jsonl) or CSV (format=csv), streamed" });

/** The first broken link of a chain. */
const brokenLink = z
  .object({
    entryId: z.string(),
    problem: z.enum(["EDITED", "MISSING", "REORDERED", "INSERTED", "BAD_CHECKPOINT", "UNSEALED", "BAD_SEAL"]),
    detail: z.string(),
  })
  .meta({ id: "AuditChainBrokenLink" });

/** `:verify`'s answer: whether the chain held over the range, how many entries and signed checkpoints it covered. */
export const auditVerifyReport = z
  .object({
    verified: z.boolean(),
    entriesVerified: z.number().int(),
    checkpointsVerified: z.number().int(),
    lastEntryId: z.string(),
    lastHash: z.string(),
    brokenLink: brokenLink.optional(),
  })
  .meta({ id: "VerifyAuditLogsResponse" });
export type AuditVerifyReport = z.output<typeof auditVerifyReport>;

/** `accounts/{a}/auditSettings` (AIP-156 singleton). */
export const auditSettings = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/auditSettings"] }),
    /** Record successful reads of users, API keys and the audit log (data-access entries); default false. */
    dataAccessLogs: z.boolean(),
  })
  .meta({ id: "AuditSettings" });
export type AuditSettings = z.output<typeof auditSettings>;

/** `/.well-known/hearth-audit-keys`: every Ed25519 key that signs or signed checkpoints (RFC 8037 OKP JWKs). */
export const auditKeySet = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal("OKP"),
        crv: z.literal("Ed25519"),
        x: z.string(),
        kid: z.string(),
        alg: z.literal("EdDSA"),
        use: z.literal("sig"),
        createTime: z.string(),
        retireTime: z.string().optional(),
      }),
    ),
  })
  .meta({ id: "AuditKeySet" });

/** `accounts/{a}/auditSinks/{s}`: a live stream of the account's audit chain (docs/audit-log.md). */
export const auditSink = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/auditSinks/siem"] }),
    displayName: z.string(),
    type: z.enum(["WEBHOOK", "SPLUNK_HEC"]),
    /** WEBHOOK: the webhook it posts `audit.entry` batches to. */
    webhook: z.string(),
    /** SPLUNK_HEC: the HTTP Event Collector URL. */
    url: z.string(),
    /** How many of the account's entries the receiver acknowledged (the durable cursor). */
    deliveredCount: z.number().int(),
    /** The last failure, "" after a delivered batch. */
    lastError: z.string(),
    nextAttemptTime: z.string(),
    createTime: z.string(),
    updateTime: z.string(),
  })
  .meta({ id: "AuditSink" });
export type AuditSink = z.output<typeof auditSink>;

export const auditSinkList = listPage("auditSinks", auditSink).meta({ id: "ListAuditSinksResponse" });
