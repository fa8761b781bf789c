import { z } from "zod";
import { getAccount, listAccounts } from "../../service/accounts.ts";
import { listAuditLogs } from "../../service/audit-logs.ts";
import * as quotas from "../../service/quotas.ts";
import type { Router } from "../route.ts";
import { accountParams, id, listQuery, listRequest, timestamp } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, updateMaskQuery, type UpdateMaskSpec } from "../update-mask.ts";
import { example } from "../resources/common.ts";
import { account, accountList } from "../resources/account.ts";
import { auditLogList, type AuditLog } from "../resources/audit-log.ts";
import { quota, quotaList } from "../resources/quota.ts";

const quotaParams = accountParams.extend({ quotaId: example(z.string().max(64), "api-keys-per-user") });

/** A quota's fields, for `readMask` (AIP-157). */
const QUOTA_FIELDS = fieldNames<Awaited<ReturnType<typeof quotas.getQuota>>>()({ name: true, value: true, maxValue: true, usage: true, updateTime: true });

/** An account's fields, for `readMask` (AIP-157). */
const ACCOUNT_FIELDS = fieldNames<Awaited<ReturnType<typeof getAccount>>>()({
  name: true,
  displayName: true,
  email: true,
  accountType: true,
  state: true,
  status: true,
  suspendState: true,
  createTime: true,
  updateTime: true,
});

/**
 * An audit log entry's fields, for `readMask` (AIP-157): Fireworks' ListAuditLogs takes one
 * (fireworks_ai `AccountListAuditLogsParams.read_mask`).
 */
const AUDIT_LOG_FIELDS = fieldNames<AuditLog>()({
  name: true,
  id: true,
  timestamp: true,
  principal: true,
  email: true,
  principalUid: true,
  method: true,
  resource: true,
  message: true,
  status: true,
  payload: true,
  isAdminAction: true,
  userAgent: true,
  clientIp: true,
  apiKeyId: true,
});

/** UpdateQuota's `allowMissing` (AIP-134): `true` creates a quota the account has no value for yet instead of NOT_FOUND. */
const allowMissingQuery = z.object({
  allowMissing: z
    .enum(["true", "false"], { error: "must be true or false" })
    .optional()
    .transform((v) => v === "true")
    .meta({ description: "AIP-134: create the quota at its default maximum if the account has none yet (true or false)" }),
});

/** `updateMask` (AIP-134): only the value changes, and it cannot be cleared. */
const QUOTA_UPDATE: UpdateMaskSpec = { updatable: { value: "required" }, fields: QUOTA_FIELDS };

/** The account itself, its quotas and its audit log. */
export function accountRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts",
    operationId: "ListAccounts",
    actions: ["accounts.get"],
    summary: "List the accounts the credential can see: its own account",
    tag: "Accounts",
    response: accountList,
    query: listQuery(50, { readMask: ACCOUNT_FIELDS }),
    handler: async ({ deps, ctx, query }) => {
      const page = await listAccounts(deps, ctx, listRequest(query, deps.config));
      return { ...page, accounts: applyReadMask(page.accounts, query.readMask) };
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}",
    operationId: "GetAccount",
    actions: ["accounts.get"],
    summary: "Get the account",
    tag: "Accounts",
    response: account,
    params: accountParams,
    query: readMaskQuery(ACCOUNT_FIELDS),
    handler: async ({ deps, ctx, params, query }) => applyReadMaskTo(await getAccount(deps, ctx, params.accountId), query.readMask),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/quotas",
    operationId: "ListQuotas",
    actions: ["quotas.list"],
    summary: "List the account's quotas with their usage (filter: name, update_time)",
    tag: "Quotas",
    response: quotaList,
    params: accountParams,
    query: listQuery(50, { readMask: QUOTA_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await quotas.listQuotas(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, quotas: applyReadMask(page.quotas, query.readMask) };
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/quotas/{quotaId}",
    operationId: "GetQuota",
    actions: ["quotas.get"],
    summary: "Get one quota with its usage",
    tag: "Quotas",
    response: quota,
    params: quotaParams,
    query: readMaskQuery(QUOTA_FIELDS),
    handler: async ({ deps, ctx, params, query }) => applyReadMaskTo(await quotas.getQuota(deps, ctx, params.accountId, params.quotaId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/quotas/{quotaId}",
    operationId: "UpdateQuota",
    actions: ["quotas.update"],
    summary: "Set a quota's value, at most its maxValue (admin)",
    tag: "Quotas",
    response: quota,
    params: quotaParams,
    body: example(
      z.object({
        value: z.union([
          z.number().int().min(0),
          z
            .string()
            .regex(/^\d{1,15}$/, "must be a non-negative integer")
            .transform(Number),
        ]),
      }),
      { value: 10 },
    ),
    query: updateMaskQuery.extend(allowMissingQuery.shape),
    handler: ({ deps, ctx, params, query, body }) =>
      quotas.updateQuota(
        deps,
        ctx,
        params.accountId,
        params.quotaId,
        applyUpdateMask<{ value: number }>(QUOTA_UPDATE, body, query.updateMask).value,
        query.allowMissing,
      ),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditLogs",
    operationId: "ListAuditLogs",
    actions: ["auditLogs.list", "auditLogs.listAll"],
    summary: "List audit log entries, newest first (non-admins see only their own, non-admin entries)",
    tag: "Audit log",
    response: auditLogList,
    params: accountParams,
    query: listQuery(10, {
      readMask: AUDIT_LOG_FIELDS,
      extra: {
        startTime: timestamp("startTime").optional(),
        endTime: timestamp("endTime").optional(),
        email: z.string().max(254).optional(),
      },
    }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await listAuditLogs(deps, ctx, params.accountId, query, listRequest(query, deps.config));
      return { ...page, auditLogs: applyReadMask(page.auditLogs, query.readMask) };
    },
  });
}
