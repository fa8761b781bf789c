/**
 * @module Audit sinks (`accounts/{a}/auditSinks/{s}`): live streams of the account's audit chain to a
 * SIEM — one of the account's webhooks (event `audit.entry`, batched, Standard Webhooks signatures)
 * or a Splunk HTTP Event Collector. Delivered by `audit-sink-delivery.ts` (docs/audit-log.md).
 */
import { randomBytes } from "node:crypto";
import { invalidArgument, notFound } from "../domain/errors.ts";
import { collectionName, webhookName } from "../domain/resource-names.ts";
import { seal } from "../domain/secret-box.ts";
import { formatTimestamp } from "../domain/time.ts";
import { deleteAuditSink as deleteRow, getAuditSink as getRow, insertAuditSink, listAuditSinkPage as listSinkPage } from "../store/audit-sinks.ts";
import { insertUnique } from "../store/errors.ts";
import type { AuditSinkRow } from "../store/schema.ts";
import type { ListRequest } from "../store/list.ts";
import { getWebhook } from "../store/webhooks.ts";
import { lockAccount } from "../store/accounts.ts";
import { audited } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { checkOutboundTarget } from "./outbound-fetch.ts";
import { createWithinQuota } from "./quotas.ts";
import { authorize } from "./permissions.ts";
import { serverKey } from "./server-key.ts";

/** The sealing context of a sink's HEC token: a sealed value copied to another sink does not open. */
export const sinkTokenContext = (accountId: string, id: string): string => `audit-sink-token:${accountId}/${id}`;

const sinkName = (accountId: string, id: string): string => `${collectionName(accountId, "auditSinks")}/${id}`;

export interface AuditSinkInput {
  displayName?: string | undefined;
  type: "WEBHOOK" | "SPLUNK_HEC";
  /** WEBHOOK: the webhook's name, `accounts/{account}/webhooks/{webhook}`. */
  webhook?: string | undefined;
  /** SPLUNK_HEC: the collector's URL, e.g. `https://splunk.example.com:8088/services/collector/event`. */
  url?: string | undefined;
  /** SPLUNK_HEC: the HEC token (write-only). */
  hecToken?: string | undefined;
}

/** The resource as the API returns it; the HEC token is never returned. */
export interface AuditSinkView {
  name: string;
  displayName: string;
  type: string;
  webhook: string;
  url: string;
  /** How many of the account's entries the receiver acknowledged (the cursor's position). */
  deliveredCount: number;
  /** The last failure ("" after a delivered batch) and when the next attempt is due. */
  lastError: string;
  nextAttemptTime: string;
  createTime: string;
  updateTime: string;
}

const view = (row: AuditSinkRow): AuditSinkView => ({
  name: sinkName(row.account_id, row.id),
  displayName: row.display_name,
  type: row.type,
  webhook: row.webhook_id ? webhookName(row.account_id, row.webhook_id) : "",
  url: row.url,
  deliveredCount: row.delivered_seq,
  lastError: row.last_error,
  nextAttemptTime: formatTimestamp(row.next_attempt_time),
  createTime: formatTimestamp(row.create_time),
  updateTime: formatTimestamp(row.update_time),
});

/**
 * CreateAuditSink (admins, audited): streams every retained entry of the account from the first on,
 * in chain order, at least once. It needs the sink's own rights, `auditSettings.update` and
 * `auditLogs.listAll` (reading the whole log): a principal, or a key scoped to the settings, that may
 * not read the log must not be able to send it to a receiver of its choice.
 * @throws INVALID_ARGUMENT naming a missing or bad field (a WEBHOOK sink's `webhook` must be one of
 * the account's webhooks; a SPLUNK_HEC sink needs `url` — public unless HEARTH_ALLOW_PRIVATE_NETWORKS — and `hecToken`);
 * ALREADY_EXISTS for a taken id; RESOURCE_EXHAUSTED when the account's "audit-sinks" quota (default
 * and maximum 5: each sink is sent the whole stream) is used up; PERMISSION_DENIED naming the action missing.
 */
export async function createAuditSink(deps: Deps, ctx: Ctx, accountId: string, sinkId: string | undefined, input: AuditSinkInput): Promise<AuditSinkView> {
  authorize(ctx, "auditSettings.update");
  authorize(ctx, "auditLogs.listAll", "create an audit sink, which sends the whole audit log to its receiver");
  const id = sinkId ?? `sink-${randomBytes(4).toString("hex")}`;
  const { hecToken, ...shown } = input;
  return audited(deps, ctx, { method: "CreateAuditSink", resource: sinkName(accountId, id), payload: shown }, async (trx) => {
    let webhookId = "";
    let url = "";
    let token = "";
    if (input.type === "WEBHOOK") {
      if (input.url !== undefined || hecToken !== undefined) throw invalidArgument("a WEBHOOK sink takes webhook, not url or hecToken");
      const prefix = `${collectionName(accountId, "webhooks")}/`;
      if (!input.webhook?.startsWith(prefix)) throw invalidArgument(`webhook must name one of the account's webhooks: ${prefix}{webhook}`);
      webhookId = input.webhook.slice(prefix.length);
      // Locked before the webhook is read, as its deletion locks before it counts the sinks through it:
      // a sink never streams through a webhook deleted meanwhile (which a webhook made later under its id would take over).
      await lockAccount(deps.store, trx, accountId);
      if (!(await getWebhook(trx, accountId, webhookId))) throw invalidArgument(`webhook "${input.webhook}" not found`);
    } else {
      if (input.webhook !== undefined) throw invalidArgument("a SPLUNK_HEC sink takes url and hecToken, not webhook");
      if (!input.url || !/^https?:\/\//.test(input.url)) throw invalidArgument("url must be the collector's http(s) URL");
      if (!hecToken) throw invalidArgument("hecToken is required for a SPLUNK_HEC sink");
      checkOutboundTarget(deps, "url", input.url);
      url = input.url;
      token = seal(serverKey(deps.config), hecToken, sinkTokenContext(accountId, id));
    }
    const now = deps.clock.now();
    const row: AuditSinkRow = {
      account_id: accountId,
      id,
      display_name: input.displayName ?? "",
      type: input.type,
      webhook_id: webhookId,
      url,
      token,
      delivered_seq: 0,
      attempt_count: 0,
      next_attempt_time: 0,
      last_error: "",
      lease_owner: "",
      lease_expire_time: 0,
      create_time: now,
      update_time: now,
    };
    await createWithinQuota(deps, trx, accountId, "audit-sinks", () => insertUnique(() => insertAuditSink(trx, row), `audit sink "${id}" already exists`));
    return view(row);
  });
}

/** GetAuditSink (admins). @throws NOT_FOUND */
export async function getAuditSink(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<AuditSinkView> {
  authorize(ctx, "auditLogs.listAll");
  const row = await getRow(deps.store.db, accountId, id);
  if (!row) throw notFound(`audit sink "${id}" not found`);
  return view(row);
}

/** ListAuditSinks (admins): one page (AIP-158) of the account's sinks matching `req.filter` (AIP-160). */
export async function listAuditSinks(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  req: ListRequest,
): Promise<{ auditSinks: AuditSinkView[]; nextPageToken: string; totalSize: number }> {
  authorize(ctx, "auditLogs.listAll");
  const page = await listSinkPage(deps.store.db, accountId, req);
  return { auditSinks: page.rows.map(view), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
}

/**
 * DeleteAuditSink (admins, audited): its stream stops. As creating one, it needs `auditLogs.listAll`
 * besides `auditSettings.update`: whoever may not read the whole log may not stop the copy of it that
 * others keep outside Hearth (a custom role holding only `auditSettings.update` could otherwise
 * blind the receiver before acting).
 * @throws NOT_FOUND; PERMISSION_DENIED.
 */
export async function deleteAuditSink(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<void> {
  authorize(ctx, "auditSettings.update");
  authorize(ctx, "auditLogs.listAll", "delete an audit sink, which stops sending the audit log to its receiver");
  await audited(deps, ctx, { method: "DeleteAuditSink", resource: sinkName(accountId, id) }, async (trx) => {
    if (!(await deleteRow(trx, accountId, id))) throw notFound(`audit sink "${id}" not found`);
  });
}
