import { Readable } from "node:stream";
import { z } from "zod";
import { exportAuditLogs } from "../../service/audit-export.ts";
import { getAuditSettings, updateAuditSettings } from "../../service/audit-settings.ts";
import { auditPublicKeys } from "../../service/audit-signing.ts";
import { verifyAuditLogs } from "../../service/audit-verify.ts";
import { example } from "../resources/common.ts";
import { auditKeySet, auditLogExport, auditSettings, auditSink, auditSinkList, auditVerifyReport } from "../resources/audit-log.ts";
import { createAuditSink, deleteAuditSink, getAuditSink, listAuditSinks, type AuditSinkView } from "../../service/audit-sinks.ts";
import { empty } from "../resources/common.ts";
import type { Router } from "../route.ts";
import { accountParams, anyQuery, displayName, id, listQuery, listRequest, newId, plainText, timestamp } from "../schemas.ts";
import { applyReadMask, fieldNames } from "../read-mask.ts";
import { applyUpdateMask, updateMaskQuery, type UpdateMaskSpec } from "../update-mask.ts";

const range = {
  startTime: timestamp("startTime").optional(),
  endTime: timestamp("endTime").optional(),
};

const sinkParams = accountParams.extend({ auditSinkId: example(id("audit sink id"), "siem") });

const AUDIT_SETTINGS_UPDATE: UpdateMaskSpec = { updatable: { dataAccessLogs: { clear: false } }, fields: ["name", "dataAccessLogs"] };

/** The audit log's export, verification, settings and published signing keys (docs/audit-log.md). */

/** An audit sink's fields, for a list's `readMask` (AIP-157). */
const SINK_FIELDS = fieldNames<AuditSinkView>()({
  name: true,
  displayName: true,
  type: true,
  webhook: true,
  url: true,
  deliveredCount: true,
  lastError: true,
  nextAttemptTime: true,
  createTime: true,
  updateTime: true,
});
export function auditLogRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditLogs:export",
    operationId: "ExportAuditLogs",
    actions: ["auditLogs.list", "auditLogs.listAll"],
    summary:
      "The audit log as JSON Lines or CSV, streamed, with the list's filters (all time by default); an admin's unfiltered JSON Lines export verifies offline (hearth audit verify --file)",
    tag: "Audit log",
    response: auditLogExport,
    responseType: "application/jsonl",
    params: accountParams,
    query: z.strictObject({
      format: z.enum(["jsonl", "csv"], { error: "must be jsonl or csv" }).default("jsonl"),
      ...range,
      email: z.string().max(254).optional(),
      filter: z.string().max(4096).optional(),
    }),
    handler: async ({ deps, ctx, params, query, reply }) => {
      const exported = await exportAuditLogs(deps, ctx, params.accountId, query);
      void reply
        .header("content-type", exported.contentType)
        .header("content-disposition", `attachment; filename="${exported.filename}"`)
        .header("cache-control", "no-store");
      return Readable.from(exported.body);
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditLogs:verify",
    operationId: "VerifyAuditLogs",
    actions: ["auditLogs.listAll"],
    summary: "Recompute the account's audit hash chain and checkpoint signatures over a time range: the first broken link, or how many entries held (admin)",
    tag: "Audit log",
    response: auditVerifyReport,
    params: accountParams,
    query: z.strictObject(range),
    handler: ({ deps, ctx, params, query }) => verifyAuditLogs(deps, ctx, params.accountId, query),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditSettings",
    operationId: "GetAuditSettings",
    actions: ["auditLogs.listAll"],
    summary: "The account's audit settings: whether data-access entries are recorded (admin)",
    tag: "Audit log",
    response: auditSettings,
    params: accountParams,
    handler: ({ deps, ctx, params }) => getAuditSettings(deps, ctx, params.accountId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/auditSettings",
    operationId: "UpdateAuditSettings",
    actions: ["auditSettings.update"],
    summary: "Switch data-access entries (successful reads of users, API keys and the audit log) on or off (admin, audited)",
    tag: "Audit log",
    response: auditSettings,
    params: accountParams,
    query: updateMaskQuery,
    body: example(z.object({ dataAccessLogs: z.boolean().optional() }), { dataAccessLogs: true }),
    handler: ({ deps, ctx, params, query, body }) =>
      updateAuditSettings(deps, ctx, params.accountId, applyUpdateMask<{ dataAccessLogs?: boolean }>(AUDIT_SETTINGS_UPDATE, body, query.updateMask)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/auditSinks",
    operationId: "CreateAuditSink",
    actions: ["auditSettings.update"],
    summary:
      "Stream the account's audit log, every entry at least once and in order, to a webhook (event audit.entry) or a Splunk HTTP Event Collector (admin)",
    tag: "Audit log",
    response: auditSink,
    params: accountParams,
    query: z.object({ auditSinkId: example(newId("auditSinkId"), "siem").optional() }),
    body: example(
      z.object({
        displayName: displayName().optional(),
        type: z.enum(["WEBHOOK", "SPLUNK_HEC"], { error: "must be WEBHOOK or SPLUNK_HEC" }),
        webhook: z.string().max(300).optional(),
        url: plainText().max(2048).optional(),
        // Sent as `Authorization: Splunk <hecToken>`: a character a header cannot carry (a control,
        // a space, anything past ASCII) would be stored and then fail every delivery.
        hecToken: z
          .string()
          .min(1)
          .max(512)
          .regex(/^[\x21-\x7e]+$/, "must be visible ASCII characters (it is sent in the Authorization header)")
          .optional(),
      }),
      { displayName: "SIEM", type: "WEBHOOK", webhook: "accounts/my-account/webhooks/alerts" },
    ),
    handler: ({ deps, ctx, params, query, body }) => createAuditSink(deps, ctx, params.accountId, query.auditSinkId, body),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditSinks",
    operationId: "ListAuditSinks",
    actions: ["auditLogs.listAll"],
    summary: "List the account's audit sinks with their delivery state (admin)",
    tag: "Audit log",
    response: auditSinkList,
    params: accountParams,
    query: listQuery(100, { readMask: SINK_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await listAuditSinks(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, auditSinks: applyReadMask(page.auditSinks, query.readMask) };
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/auditSinks/{auditSinkId}",
    operationId: "GetAuditSink",
    actions: ["auditLogs.listAll"],
    summary: "An audit sink and its delivery state: entries delivered, last error (admin)",
    tag: "Audit log",
    response: auditSink,
    params: sinkParams,
    handler: ({ deps, ctx, params }) => getAuditSink(deps, ctx, params.accountId, params.auditSinkId),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/auditSinks/{auditSinkId}",
    operationId: "DeleteAuditSink",
    actions: ["auditSettings.update"],
    summary: "Stop and delete an audit sink (admin)",
    tag: "Audit log",
    response: empty,
    params: sinkParams,
    handler: async ({ deps, ctx, params }) => {
      await deleteAuditSink(deps, ctx, params.accountId, params.auditSinkId);
      return {};
    },
  });

  router.add({
    method: "GET",
    url: "/.well-known/hearth-audit-keys",
    operationId: "GetAuditKeys",
    summary: "The Ed25519 public keys that sign audit checkpoints, retired ones included (JWKS-like: RFC 8037 OKP keys by kid)",
    tag: "Audit log",
    response: auditKeySet,
    auth: false,
    query: anyQuery,
    handler: async ({ deps, reply }) => {
      void reply.header("cache-control", "public, max-age=300");
      return { keys: await auditPublicKeys(deps.store, deps.config) };
    },
  });
}
