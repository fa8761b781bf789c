/**
 * @module The events an account's webhooks may subscribe to (docs/webhooks.md lists what each carries).
 * Names are `<resource>.<past-tense verb>` as in the Standard Webhooks spec's examples; a type is
 * added, never renamed.
 */
export const WEBHOOK_EVENT_TYPES = [
  "api_key.expiring",
  "api_key.expired",
  "api_key.disabled",
  "api_key.leaked",
  "api_key.rotated",
  "principal.created",
  "principal.deleted",
  "principal.role_changed",
  "quota.threshold",
  "sign_in.refused",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Whether `value` is one of the event types. */
export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
