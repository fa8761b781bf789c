import { z } from "zod";
import { getAccount } from "../../service/accounts.ts";
import { listAuditLogs } from "../../service/audit-logs.ts";
import * as quotas from "../../service/quotas.ts";
import type { Router } from "../route.ts";
import { accountParams, id, listQuery, listRequest, timestamp } from "../schemas.ts";

const quotaParams = accountParams.extend({ quotaId: z.string().max(64) });

/** The account itself, its quotas and its audit log. */
export function accountRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}",
    operationId: "GetAccount",
    summary: "Get the account",
    tag: "Accounts",
    params: accountParams,
    handler: ({ deps, ctx, params }) => getAccount(deps, ctx, params.accountId),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/quotas",
    operationId: "ListQuotas",
    summary: "List the account's quotas with their usage",
    tag: "Quotas",
    params: accountParams,
    handler: ({ deps, ctx, params }) => quotas.listQuotas(deps, ctx, params.accountId),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/quotas/{quotaId}",
    operationId: "GetQuota",
    summary: "Get one quota with its usage",
    tag: "Quotas",
    params: quotaParams,
    handler: ({ deps, ctx, params }) => quotas.getQuota(deps, ctx, params.accountId, params.quotaId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/quotas/{quotaId}",
    operationId: "UpdateQuota",
    summary: "Set a quota's value, at most its maxValue (admin)",
    tag: "Quotas",
    params: quotaParams,
    body: z.object({
      value: z.union([
        z.number().int().min(0),
        z
          .string()
          .regex(/^\d{1,15}$/, "must be a non-negative integer")
          .transform(Number),
      ]),
    }),
    handler: ({ deps, ctx, params, body }) => quotas.updateQuota(deps, ctx, params.accountId, params.quotaId, body.value),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditLogs",
    operationId: "ListAuditLogs",
    summary: "List audit log entries, newest first (non-admins see only their own, non-admin entries)",
    tag: "Audit log",
    params: accountParams,
    query: listQuery(10).and(
      z.object({
        startTime: timestamp("startTime").optional(),
        endTime: timestamp("endTime").optional(),
        email: z.string().max(254).optional(),
      }),
    ),
    handler: ({ deps, ctx, params, query }) => listAuditLogs(deps, ctx, params.accountId, query, listRequest(query, deps.config)),
  });
}
