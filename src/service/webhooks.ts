/**
 * @module Account webhooks (docs/webhooks.md): `accounts/{a}/webhooks/{w}`, an https URL, the event
 * types sent to it and its state, with a Standard Webhooks signing secret shown once at creation and
 * kept sealed with the server key. Admins manage them; every change and refusal is audited. The
 * events are written by `enqueueWebhookEvent` and sent by the delivery worker (webhook-delivery.ts).
 */
import { quoted } from "../domain/display-text.ts";
import { randomBytes } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { aborted, failedPrecondition, invalidArgument, notFound } from "../domain/errors.ts";
import { checkDisplayName, checkField, FIELD_RULES } from "../domain/field-rules.ts";
import { checkId } from "../domain/ids.ts";
import { collectionName, webhookDeliveryName, webhookName } from "../domain/resource-names.ts";
import { open, seal } from "../domain/secret-box.ts";
import { formatDuration, formatTimestamp } from "../domain/time.ts";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../domain/webhook-event-types.ts";
import type { ListRequest } from "../store/list.ts";
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import * as store from "../store/webhooks.ts";
import { lockAccount } from "../store/accounts.ts";
import { sinksThroughWebhook } from "../store/audit-sinks.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { outboundOf } from "./outbound-fetch.ts";
import { createWithinQuota } from "./quotas.ts";
import { authorize, requireHoldsAll } from "./permissions.ts";
import { serverKey } from "./server-key.ts";
import type { Webhook, WebhookDelivery } from "../http/resources/webhook.ts";

export interface WebhookInput {
  displayName?: string | undefined;
  url?: string | undefined;
  events?: string[] | undefined;
  state?: "ENABLED" | "DISABLED" | undefined;
}

/** The sealing context of a webhook's secret: a sealed value copied to another webhook does not open. */
export const secretContext = (accountId: string, id: string): string => `webhook-secret:${accountId}/${id}`;

/** The sealing context of the secret a rotation replaced: a sealed value copied into `secret` does not open there. */
const previousSecretContext = (accountId: string, id: string): string => `webhook-previous-secret:${accountId}/${id}`;

/** Until when a rotated-out secret still signs, when it does at `now` (epoch ms); undefined otherwise. */
const previousSecretExpiry = (row: Pick<WebhookRow, "previous_secret_expire_time">, now: number): number | undefined =>
  row.previous_secret_expire_time !== null && now < row.previous_secret_expire_time ? row.previous_secret_expire_time : undefined;

/**
 * The `webhook-signature` header of a message sent through webhook `webhookId` of `accountId`, as
 * Standard Webhooks specifies (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, the
 * timestamp in whole seconds): signed with the webhook's `secret` and, during a rotation's grace
 * period at `now` (epoch ms), with the secret it replaced too, as a space-separated list of which a
 * receiver accepts any match — so a receiver that has not yet deployed the new secret drops nothing,
 * whether the message is an event's delivery or an audit sink's batch.
 */
export function webhookSignature(
  config: Deps["config"],
  accountId: string,
  webhookId: string,
  row: Pick<WebhookRow, "previous_secret" | "previous_secret_expire_time">,
  secret: string,
  message: { id: string; sentAt: Date; body: string },
  now: number,
): string {
  const previous =
    previousSecretExpiry(row, now) === undefined ? undefined : open(serverKey(config), row.previous_secret, previousSecretContext(accountId, webhookId));
  return [secret, ...(previous === undefined ? [] : [previous])].map((s) => new StandardWebhook(s).sign(message.id, message.sentAt, message.body)).join(" ");
}

function webhookView(row: WebhookRow, now: number): Webhook {
  const previousUntil = previousSecretExpiry(row, now);
  return {
    name: webhookName(row.account_id, row.id),
    displayName: row.display_name,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    state: row.state as Webhook["state"],
    ...(previousUntil === undefined ? {} : { previousSecretExpireTime: formatTimestamp(previousUntil) }),
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
const newSigningSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

const MAX_URL_LENGTH = 2048;

/**
 * Where a webhook URL may not be reached (`OutboundFetch.problem`: its host name is resolved, within
 * a bounded time), or undefined; for `checkUrl`. Run before the change's transaction opens: a name
 * server that is slow to answer must not hold a connection, or on SQLite the one writer, that every
 * other change of every account waits for.
 */
function reachProblem(deps: Deps, value: string | undefined): Promise<string | undefined> {
  if (value === undefined || value.length > MAX_URL_LENGTH) return Promise.resolve(undefined);
  return outboundOf(deps).problem(value);
}

/**
 * A webhook URL: an absolute http(s) URL without credentials or fragment, at most 2048 characters,
 * that the outbound fetch may reach — https to a public address, or (when the operator set
 * HEARTH_ALLOW_PRIVATE_NETWORKS=true) also http and private addresses. A host name is resolved
 * (`reachProblem`, whose answer is `problem`) and refused when it resolves only to addresses Hearth
 * may not reach; it is checked again at each delivery.
 * @throws INVALID_ARGUMENT naming `url`.
 */
function checkUrl(value: string, problem: string | undefined): string {
  checkField(FIELD_RULES.plainText, "url", value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidArgument(`invalid url ${quoted(value)}: expected an absolute https URL`);
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.hash) {
    throw invalidArgument(`invalid url ${quoted(value)}: expected an https URL without credentials or fragment`);
  }
  if (value.length > MAX_URL_LENGTH) throw invalidArgument(`invalid url: must be at most ${MAX_URL_LENGTH} characters`);
  if (problem) throw invalidArgument(`invalid url ${quoted(value)}: ${problem}`);
  return value;
}

/**
 * A webhook an audit sink streams the log through carries every entry of the account: redirecting
 * it, switching it off or taking its secret (a new one, by rotating) needs the rights of the sink
 * itself — reading the whole log and changing the audit settings (`auditLogs.listAll`,
 * `auditSettings.update`) — or a principal that may not read the log could point it at itself
 * (no escalation, `requireHoldsAll`). Checks nothing for a webhook no sink uses.
 * @throws PERMISSION_DENIED naming the sinks and the missing actions.
 */
async function requireSinkRights(trx: Db, ctx: Ctx, accountId: string, id: string, what: string): Promise<void> {
  const sinks = await sinksThroughWebhook(trx, accountId, id);
  if (sinks.length === 0) return;
  const named = sinks.map((s) => `"${s}"`).join(", ");
  requireHoldsAll(ctx, ["auditLogs.listAll", "auditSettings.update"], `${what}: audit sink ${named} streams the audit log through it`);
}

/**
 * The event types of a webhook: at least one, each one of WEBHOOK_EVENT_TYPES; a JSON array, sorted, without repeats.
 * @throws INVALID_ARGUMENT naming every unknown type.
 */
function checkEvents(events: string[]): string {
  const unknown = events.filter((e) => !isWebhookEventType(e));
  if (unknown.length > 0) {
    throw invalidArgument(`unknown event type ${unknown.map((e) => JSON.stringify(e)).join(", ")} in events: use ${WEBHOOK_EVENT_TYPES.join(", ")}`);
  }
  if (events.length === 0) throw invalidArgument("events must name at least one event type");
  return JSON.stringify([...new Set(events)].sort());
}

async function getRow(db: Db, accountId: string, id: string): Promise<WebhookRow> {
  const row = await store.getWebhook(db, accountId, id);
  if (!row) throw notFound(`webhook "${id}" not found`);
  return row;
}

/**
 * CreateWebhook: a webhook with a new signing secret (`whsec_` + base64 of 32 random bytes, the
 * Standard Webhooks format), returned in `signingSecret` this once and stored sealed. Without
 * `requestedId` the id is generated (`webhook-` and 8 hex digits). State defaults to ENABLED.
 * Each webhook takes one unit of the account's "webhooks" quota (default and maximum 20).
 * @throws INVALID_ARGUMENT (id, url, events, displayName), ALREADY_EXISTS, RESOURCE_EXHAUSTED (the quota).
 */
export async function createWebhook(deps: Deps, ctx: Ctx, accountId: string, requestedId: string | undefined, input: WebhookInput): Promise<Webhook> {
  const id = requestedId ?? `webhook-${randomBytes(4).toString("hex")}`;
  const op = { method: "CreateWebhook", resource: webhookName(accountId, id), payload: input };
  const problem = await reachProblem(deps, input.url);
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "webhooks.create");
    checkId(id, "webhookId");
    if (input.url === undefined) throw invalidArgument("url is required: the https URL events are POSTed to");
    const signingSecret = newSigningSecret();
    const now = deps.clock.now();
    const row: WebhookRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName?.trim() || id),
      url: checkUrl(input.url, problem),
      events: checkEvents(input.events ?? []),
      state: input.state ?? "ENABLED",
      secret: seal(serverKey(deps.config), signingSecret, secretContext(accountId, id)),
      previous_secret: "",
      previous_secret_expire_time: null,
      create_time: now,
      update_time: now,
    };
    await createWithinQuota(deps, trx, accountId, "webhooks", () => store.insertWebhook(trx, row));
    return { ...webhookView(row, now), signingSecret };
  });
}

export async function getWebhook(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<Webhook> {
  return auditRefusals(ctx, { method: "GetWebhook", resource: webhookName(accountId, id) }, async () => {
    authorize(ctx, "webhooks.get");
    return webhookView(await getRow(deps.store.db, accountId, id), deps.clock.now());
  });
}

/** ListWebhooks: one page (AIP-158) of the account's webhooks matching `req.filter` (AIP-160). */
export async function listWebhooks(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  req: ListRequest,
): Promise<{ webhooks: Webhook[]; nextPageToken: string; totalSize: number }> {
  return auditRefusals(ctx, { method: "ListWebhooks", resource: collectionName(accountId, "webhooks") }, async () => {
    authorize(ctx, "webhooks.list");
    const page = await store.listWebhookPage(deps.store.db, accountId, req);
    const now = deps.clock.now();
    return { webhooks: page.rows.map((row) => webhookView(row, now)), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/** UpdateWebhook (AIP-134): the fields given; events already written keep going to the URL in force when each is sent. */
export async function updateWebhook(deps: Deps, ctx: Ctx, accountId: string, id: string, input: WebhookInput): Promise<Webhook> {
  const op = { method: "UpdateWebhook", resource: webhookName(accountId, id), payload: input };
  const problem = await reachProblem(deps, input.url);
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "webhooks.update");
    // Locked before the row is read (as a create reserving quota locks): a concurrent deletion is then a 404, never a success that changed nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await getRow(trx, accountId, id);
    if ((input.url !== undefined && input.url !== row.url) || (input.state !== undefined && input.state !== row.state))
      await requireSinkRights(trx, ctx, accountId, id, "change where this webhook sends or whether it does");
    const patch: store.WebhookPatch = { update_time: deps.clock.now() };
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName.trim() || id);
    if (input.url !== undefined) patch.url = checkUrl(input.url, problem);
    if (input.events !== undefined) patch.events = checkEvents(input.events);
    if (input.state !== undefined) patch.state = input.state;
    await store.updateWebhook(trx, accountId, id, patch);
    return webhookView({ ...row, ...patch }, patch.update_time);
  });
}

/** The longest a rotated-out secret keeps signing: 7 days, the longest Stripe offers when it rolls a webhook secret. */
const MAX_SECRET_GRACE_MS = 7 * 86_400_000;

/**
 * RotateWebhookSecret (`POST …/webhooks/{w}:rotateSecret`, an AIP-136 custom method): a new signing
 * secret, returned in `signingSecret` this once and stored sealed. For `gracePeriodMs` (at most
 * `MAX_SECRET_GRACE_MS`; 0: not at all) every delivery is signed with the new secret and the old
 * one — Standard Webhooks' `webhook-signature` carries a space-separated list, and its libraries
 * accept any signature that matches — so a receiver moves to the new secret without dropping
 * events; `previousSecretExpireTime` says until when. Only the secret in force when rotating keeps
 * signing: a second rotation within the grace period drops the first one's old secret. The audit
 * entry records the grace period, never a secret.
 * @throws INVALID_ARGUMENT (gracePeriod too long), NOT_FOUND, ABORTED when another rotation of the
 * same webhook committed between this one's read and its write.
 */
export async function rotateWebhookSecret(deps: Deps, ctx: Ctx, accountId: string, id: string, gracePeriodMs: number): Promise<Webhook> {
  const op = { method: "RotateWebhookSecret", resource: webhookName(accountId, id), payload: { gracePeriod: formatDuration(gracePeriodMs) } };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "webhooks.update");
    if (gracePeriodMs > MAX_SECRET_GRACE_MS) {
      throw invalidArgument(`gracePeriod must be at most ${formatDuration(MAX_SECRET_GRACE_MS)} (7 days): the old secret stops signing by then`);
    }
    await lockAccount(deps.store, trx, accountId);
    const row = await getRow(trx, accountId, id);
    await requireSinkRights(trx, ctx, accountId, id, "rotate this webhook's signing secret");
    const key = serverKey(deps.config);
    const now = deps.clock.now();
    // A secret that no longer opens (the server key changed) signs nothing: there is nothing to keep.
    const current = gracePeriodMs > 0 ? open(key, row.secret, secretContext(accountId, id)) : undefined;
    const signingSecret = newSigningSecret();
    const patch: store.WebhookPatch = {
      secret: seal(key, signingSecret, secretContext(accountId, id)),
      previous_secret: current === undefined ? "" : seal(key, current, previousSecretContext(accountId, id)),
      previous_secret_expire_time: current === undefined ? null : now + gracePeriodMs,
      update_time: now,
    };
    // Two rotations at once: one wins, so that no caller holds a secret that never signs.
    if (!(await store.replaceWebhookSecret(trx, accountId, id, row.secret, patch))) {
      throw aborted(`webhook "${id}" had its secret rotated by another request at the same time: read it and rotate again if needed`);
    }
    return { ...webhookView({ ...row, ...patch }, now), signingSecret };
  });
}

/**
 * DeleteWebhook: the webhook and its delivery log; its pending deliveries are never sent. A webhook an
 * audit sink streams through is not deleted while the sink is there: a webhook created later under
 * its id would take the stream.
 * @throws NOT_FOUND; FAILED_PRECONDITION naming the sinks.
 */
export async function deleteWebhook(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<void> {
  await audited(deps, ctx, { method: "DeleteWebhook", resource: webhookName(accountId, id) }, async (trx) => {
    authorize(ctx, "webhooks.delete");
    // Locked before the sinks are counted: a sink created meanwhile (which locks before it reads the webhook) is seen.
    await lockAccount(deps.store, trx, accountId);
    await getRow(trx, accountId, id);
    const sinks = await sinksThroughWebhook(trx, accountId, id);
    if (sinks.length > 0)
      throw failedPrecondition(`audit sink ${sinks.map((s) => `"${s}"`).join(", ")} streams the audit log through webhook "${id}": delete the sink first`);
    await store.deleteWebhook(trx, accountId, id);
  });
}

function attemptView(row: WebhookAttemptRow) {
  return {
    attempt: row.attempt,
    attemptTime: formatTimestamp(row.attempt_time),
    responseCode: row.response_code,
    error: row.error,
    durationMs: row.duration_ms,
  };
}

async function deliveryViews(db: Db, rows: WebhookDeliveryRow[]): Promise<WebhookDelivery[]> {
  const ids = rows.map((r) => r.id);
  const [events, attempts] = await Promise.all([store.eventsById(db, [...new Set(rows.map((r) => r.event_id))]), store.attemptsOf(db, ids)]);
  // A delivery whose event is gone was pruned (with its event, by cascade) after the page was read:
  // it is left out, as the next read would leave it out, rather than failing the whole page.
  return rows.flatMap((row) => {
    const event = events.get(row.event_id);
    if (!event) return [];
    return {
      name: webhookDeliveryName(row.account_id, row.webhook_id, row.id),
      eventId: row.event_id,
      eventType: event.type as WebhookEventType,
      payload: JSON.parse(event.data) as Record<string, unknown>,
      state: row.state as WebhookDelivery["state"],
      responseCode: row.response_code,
      ...(row.state === "PENDING" && row.next_attempt_time !== null ? { nextAttemptTime: formatTimestamp(row.next_attempt_time) } : {}),
      attempts: (attempts.get(row.id) ?? []).map(attemptView),
      createTime: formatTimestamp(row.create_time),
      updateTime: formatTimestamp(row.update_time),
    };
  });
}

/** ListWebhookDeliveries: the webhook's delivery log, newest first (AIP-158 paging; filter on `state`, `create_time`). */
export async function listWebhookDeliveries(deps: Deps, ctx: Ctx, accountId: string, webhookId: string, req: ListRequest) {
  const op = { method: "ListWebhookDeliveries", resource: `${webhookName(accountId, webhookId)}/deliveries` };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "webhooks.list");
    // The page first: a bad pageToken is a 400 whether or not the webhook exists, as on every list.
    const page = await store.listDeliveryPage(deps.store.db, accountId, webhookId, req);
    await getRow(deps.store.db, accountId, webhookId);
    return { webhookDeliveries: await deliveryViews(deps.store.db, page.rows), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/**
 * RedeliverWebhookDelivery (`POST …/deliveries/{d}:redeliver`, an AIP-136 custom method): sends the
 * delivery's event again, now, with the same `webhook-id`, and retries it for a day as a new one;
 * the attempts so far stay in its log.
 * @throws NOT_FOUND, FAILED_PRECONDITION when the webhook is DISABLED.
 */
export async function redeliverWebhookDelivery(deps: Deps, ctx: Ctx, accountId: string, webhookId: string, id: string): Promise<WebhookDelivery> {
  const op = { method: "RedeliverWebhookDelivery", resource: webhookDeliveryName(accountId, webhookId, id) };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "webhooks.update");
    await lockAccount(deps.store, trx, accountId);
    const webhook = await getRow(trx, accountId, webhookId);
    const row = await store.getDelivery(trx, accountId, webhookId, id);
    if (!row) throw notFound(`delivery "${id}" not found`);
    if (webhook.state !== "ENABLED") throw failedPrecondition(`webhook "${webhookId}" is DISABLED: enable it first`);
    const now = deps.clock.now();
    await store.requeueDelivery(trx, id, now);
    const [view] = await deliveryViews(trx, [{ ...row, state: "PENDING", next_attempt_time: now, deadline_time: 0, update_time: now }]);
    // Pruned with its event by another process since it was read.
    if (!view) throw notFound(`delivery "${id}" not found`);
    return view;
  });
}
