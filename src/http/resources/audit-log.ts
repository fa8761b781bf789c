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
