/**
 * @module The API's JSON shapes, built from store rows.
 */
import { formatTimestamp } from "../domain/time.ts";
import type { AccountRow, ApiKeyRow, AuditLogRow, UserRow } from "../store/schema.ts";
import type { Account } from "../http/resources/account.ts";
import type { ApiKey } from "../http/resources/api-key.ts";
import type { AuditLog } from "../http/resources/audit-log.ts";
import type { User } from "../http/resources/user.ts";
import { accountName, apiKeyName, auditLogName, userName } from "../domain/resource-names.ts";
import type { LastUse } from "../store/api-keys.ts";
import type { DisableReason } from "../domain/api-key-state.ts";
import { restrictionsOf } from "./api-key-restrictions.ts";

/** The shapes are declared once, as the response schemas of `/openapi.json`; a view must match its schema exactly. */
export type { ApiKey, User };

export function userView(row: UserRow): User {
  return {
    name: userName(row.account_id, row.id),
    uid: row.uid,
    displayName: row.display_name,
    serviceAccount: row.service_account === 1,
    email: row.email,
    role: row.role,
    permissionPreset: row.permission_preset,
    state: row.state,
    status: { code: "OK", message: "" },
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/**
 * An API key as the API returns it. `lastUse`: its newest use noted in memory and not yet written
 * (`LastUsedRecorder.peek`), which wins over the row's.
 */
export function apiKeyView(row: ApiKeyRow, ownerEmail: string, lastUse?: LastUse): ApiKey {
  const view: ApiKey = {
    name: apiKeyName(row.account_id, row.user_id, row.id),
    keyId: row.id,
    displayName: row.display_name,
    prefix: row.prefix,
    email: ownerEmail,
    createTime: formatTimestamp(row.create_time),
    secure: true,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    state: row.state === "DISABLED" ? "DISABLED" : "ENABLED",
  };
  if (row.expire_time !== null) view.expireTime = formatTimestamp(row.expire_time);
  const used = lastUse ?? (row.last_used === null ? undefined : { time: row.last_used, ip: row.last_used_ip, userAgent: row.last_used_user_agent });
  if (used !== undefined) {
    view.lastUsed = formatTimestamp(used.time);
    if (used.ip !== "") view.lastUsedIp = used.ip;
    if (used.userAgent !== "") view.lastUsedUserAgent = used.userAgent;
  }
  if (view.state === "DISABLED") view.disableReason = row.disable_reason as DisableReason;
  return { ...view, ...restrictionsOf(row) };
}

export function accountView(row: AccountRow): Account {
  return {
    name: accountName(row.id),
    displayName: row.display_name,
    email: row.email,
    accountType: "ACCOUNT_TYPE_UNSPECIFIED",
    state: row.state,
    status: { code: "OK", message: "" },
    suspendState: "UNSUSPENDED",
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/**
 * An audit entry's outcome in the form of every resource's `status` (google.rpc code name): "OK"
 * for success (stored HTTP code 0), else the code name its stored message begins with
 * (`PERMISSION_DENIED: …`, written by `writeAudit`); the message is kept as stored.
 */
function auditStatus(message: string, httpCode: number): AuditLog["status"] {
  if (httpCode === 0) return { code: "OK", message };
  return { code: /^([A-Z_]+):/.exec(message)?.[1] ?? "UNKNOWN", message };
}

export function auditLogView(row: AuditLogRow): AuditLog {
  return {
    name: auditLogName(row.account_id, row.id),
    id: row.id,
    timestamp: formatTimestamp(row.timestamp),
    principal: row.principal,
    email: row.principal,
    principalUid: row.principal_uid,
    method: row.method,
    resource: row.resource,
    message: row.message,
    status: auditStatus(row.status_message, row.status_code),
    payload: JSON.parse(row.payload) as unknown,
    isAdminAction: row.is_admin_action === 1,
    userAgent: row.user_agent,
    clientIp: row.client_ip,
    apiKeyId: row.api_key_id,
  };
}
