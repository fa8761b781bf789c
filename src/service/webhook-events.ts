import { randomUUID } from "node:crypto";
import type { WebhookEventType } from "../domain/webhook-event-types.ts";
import { accountName, userName } from "../domain/resource-names.ts";
import type { UserRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { insertEvent, subscribedWebhooks } from "../store/webhook-outbox.ts";

export type { WebhookEventType } from "../domain/webhook-event-types.ts";

/**
 * Writes event `type` of account `accountId` to the webhook outbox, in the caller's transaction
 * `trx` (so it is sent if and only if the change it reports commits), with one PENDING delivery per
 * ENABLED webhook of the account subscribed to `type`; with none, nothing is written. The delivery
 * worker (service/webhook-delivery.ts) sends it at least once per webhook, signed per Standard
 * Webhooks, with the event's id (`msg_…`) as `webhook-id` on every attempt.
 *
 * The body sent is `{"type", "timestamp" (RFC 3339), "data"}` (Standard Webhooks' payload
 * structure); `data` gains `account: "accounts/{accountId}"`. `data` must hold no secret.
 * @param now the event's time, epoch milliseconds (lifecycle scans pass `deps.clock.now()`).
 */
export async function enqueueWebhookEvent(
  trx: Db,
  accountId: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  now: number = Date.now(),
): Promise<void> {
  const webhookIds = await subscribedWebhooks(trx, accountId, type);
  if (webhookIds.length === 0) return;
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  const body = { type, timestamp: new Date(now).toISOString(), data: { account: accountName(accountId), ...data } };
  await insertEvent(
    trx,
    { id, account_id: accountId, type, data: JSON.stringify(body), create_time: now },
    webhookIds.map((webhookId) => ({
      id: randomUUID(),
      account_id: accountId,
      webhook_id: webhookId,
      event_id: id,
      state: "PENDING",
      attempt_count: 0,
      backoff_attempt_count: 0,
      next_attempt_time: now,
      deadline_time: 0,
      lease_owner: "",
      lease_expire_time: 0,
      response_code: 0,
      create_time: now,
      update_time: now,
    })),
  );
}

/** The `data` of the principal.* events: the principal's resource name, email, role (and preset) and kind. */
export function principalData(row: Pick<UserRow, "account_id" | "id" | "email" | "role" | "permission_preset" | "service_account">): Record<string, unknown> {
  return {
    principal: userName(row.account_id, row.id),
    email: row.email,
    role: row.role,
    ...(row.permission_preset ? { permissionPreset: row.permission_preset } : {}),
    serviceAccount: row.service_account === 1,
  };
}
