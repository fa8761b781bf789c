/**
 * @module The Webhook resource and its deliveries as the API returns them (docs/webhooks.md).
 */
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhook-event-types.ts";
import { listPage, timestamp } from "./common.ts";

/** An account's webhook endpoint (`accounts/{accountId}/webhooks/{id}`). */
export const webhook = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/webhooks/alerts"] }),
    displayName: z.string(),
    /** Where events are POSTed (https; plain http and private addresses only when the operator allows private networks). */
    url: z.string().meta({ examples: ["https://hooks.example.com/hearth"] }),
    /** The event types sent to it, sorted. */
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    /** `DISABLED`: nothing is sent to it (its pending deliveries fail). */
    state: z.enum(["ENABLED", "DISABLED"]),
    /**
     * The Standard Webhooks signing secret (`whsec_` and base64 of 32 random bytes): only in the
     * answer of CreateWebhook and RotateWebhookSecret, never again.
     */
    signingSecret: z.string().optional(),
    /** While a rotated-out secret still signs every delivery (as well as the new one): until when. */
    previousSecretExpireTime: timestamp.optional(),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "Webhook" });
export type Webhook = z.output<typeof webhook>;

/** Every webhook of the account, on one page. */
export const webhookList = listPage("webhooks", webhook).meta({ id: "ListWebhooksResponse" });

/** One attempt of a delivery. */
const webhookAttempt = z
  .object({
    /** 1 for the first attempt. */
    attempt: z.number().int(),
    attemptTime: timestamp,
    /** The receiver's HTTP status; 0 when no response came back. */
    responseCode: z.number().int(),
    /** Why the attempt failed without a response, or ""; a refused address and an unreachable one read alike. */
    error: z.string(),
    durationMs: z.number().int(),
  })
  .meta({ id: "WebhookAttempt" });

/** One event sent to one webhook (`accounts/{a}/webhooks/{w}/deliveries/{id}`) and each attempt to send it. */
export const webhookDelivery = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/webhooks/alerts/deliveries/6f1c4a52-0d3e-4b8f-9a51-3c2f7e0b9d14"] }),
    /** The event's id: the `webhook-id` header of every attempt (receivers de-duplicate by it). */
    eventId: z.string().meta({ examples: ["msg_2b7c0e8f4a9d4c1e8f3a6b5d7c9e0f12"] }),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    /** The JSON body sent: `{"type", "timestamp", "data"}`. */
    payload: z.record(z.string(), z.unknown()),
    /** `PENDING` (being sent or retried), `SUCCEEDED` (a 2xx came back) or `FAILED` (retries ran out; redeliver by hand). */
    state: z.enum(["PENDING", "SUCCEEDED", "FAILED"]),
    /** HTTP status of the latest attempt; 0 before any, or when none came back. */
    responseCode: z.number().int(),
    /** When the next attempt is due, while PENDING. */
    nextAttemptTime: timestamp.optional(),
    attempts: z.array(webhookAttempt),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "WebhookDelivery" });
export type WebhookDelivery = z.output<typeof webhookDelivery>;

export const webhookDeliveryList = listPage("webhookDeliveries", webhookDelivery).meta({ id: "ListWebhookDeliveriesResponse" });
