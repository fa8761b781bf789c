import { z } from "zod";
import * as webhooks from "../../service/webhooks.ts";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhook-event-types.ts";
import type { Router } from "../route.ts";
import { accountParams, displayName, duration, id, listQuery, listRequest, newId, plainText } from "../schemas.ts";
import { applyReadMask, fieldNames } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { webhook, webhookDelivery, webhookDeliveryList, webhookList, type Webhook } from "../resources/webhook.ts";

const webhookParams = accountParams.extend({ webhookId: example(id("webhook id"), "alerts") });
const deliveryParams = webhookParams.extend({
  deliveryId: z
    .string()
    .regex(/^[0-9a-f-]{36}$/, "expected a delivery id (a UUID)")
    .meta({ examples: ["6f1c4a52-0d3e-4b8f-9a51-3c2f7e0b9d14"] }),
});

const body = z.object({
  displayName: displayName().optional(),
  /** Where events are POSTed: https to a public address (see docs/webhooks.md). */
  url: plainText().max(2048).optional(),
  /** Event types (docs/webhooks.md, "Events"). */
  events: z.array(z.string()).optional(),
  state: z.enum(["ENABLED", "DISABLED"]).optional(),
});

const updateBody = body.extend({ updateMask: z.string().optional() });

/** The default grace period of a secret rotation: one day, as for an API key's rotation. */
const DEFAULT_GRACE = "86400s";

const rotateSecretBody = z
  .object({
    gracePeriod: duration("gracePeriod")
      .prefault(DEFAULT_GRACE)
      .meta({
        description: `How long deliveries are also signed with the old secret (protobuf Duration, at most 604800s); default ${DEFAULT_GRACE}, "0s" stops it at once`,
      }),
  })
  .strict();

/** `updateMask` (AIP-134): a cleared display name becomes the webhook's id; url, events and state cannot be cleared. */
const WEBHOOK_UPDATE: UpdateMaskSpec = {
  updatable: { displayName: { clear: "" }, url: "required", events: "required", state: "required" },
  fields: fieldNames<Webhook>()({
    name: true,
    displayName: true,
    url: true,
    events: true,
    state: true,
    signingSecret: true,
    previousSecretExpireTime: true,
    createTime: true,
    updateTime: true,
  }),
};

/** Account webhooks and their delivery logs (admin-only; docs/webhooks.md). */
export function webhookRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/webhooks",
    operationId: "ListWebhooks",
    actions: ["webhooks.list"],
    summary: "List the account's webhooks (admin)",
    tag: "Webhooks",
    response: webhookList,
    params: accountParams,
    query: listQuery(100, { readMask: WEBHOOK_UPDATE.fields }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await webhooks.listWebhooks(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, webhooks: applyReadMask(page.webhooks, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/webhooks",
    operationId: "CreateWebhook",
    actions: ["webhooks.create"],
    summary: "Create a webhook (admin); the answer carries its signing secret, shown this once",
    tag: "Webhooks",
    response: webhook,
    params: accountParams,
    query: z.object({ webhookId: example(newId("webhookId"), "alerts").optional() }),
    body: example(body, { displayName: "Alerts", url: "https://hooks.example.com/hearth", events: [...WEBHOOK_EVENT_TYPES.slice(0, 2)] }),
    handler: ({ deps, ctx, params, query, body: b }) => webhooks.createWebhook(deps, ctx, params.accountId, query.webhookId, b),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}",
    operationId: "GetWebhook",
    actions: ["webhooks.get"],
    summary: "Get a webhook (admin); its signing secret is never shown again",
    tag: "Webhooks",
    response: webhook,
    params: webhookParams,
    handler: ({ deps, ctx, params }) => webhooks.getWebhook(deps, ctx, params.accountId, params.webhookId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}",
    operationId: "UpdateWebhook",
    actions: ["webhooks.update"],
    summary: "Update a webhook's display name, URL, events or state (admin)",
    tag: "Webhooks",
    response: webhook,
    params: webhookParams,
    query: updateMaskQuery,
    body: example(updateBody, { state: "DISABLED" }),
    handler: ({ deps, ctx, params, query, body: b }) =>
      webhooks.updateWebhook(deps, ctx, params.accountId, params.webhookId, applyUpdateMask(WEBHOOK_UPDATE, b, updateMaskOf(query.updateMask, b.updateMask))),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}:rotateSecret",
    operationId: "RotateWebhookSecret",
    actions: ["webhooks.update"],
    summary:
      "Give a webhook a new signing secret (admin), in this answer only; for `gracePeriod` deliveries are signed with the old secret as well, so receivers switch without dropping events",
    tag: "Webhooks",
    response: webhook,
    params: webhookParams,
    body: example(rotateSecretBody, { gracePeriod: "86400s" }),
    handler: ({ deps, ctx, params, body: b }) => webhooks.rotateWebhookSecret(deps, ctx, params.accountId, params.webhookId, b.gracePeriod),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}",
    operationId: "DeleteWebhook",
    actions: ["webhooks.delete"],
    summary: "Delete a webhook and its delivery log (admin); its pending deliveries are never sent",
    tag: "Webhooks",
    response: empty,
    params: webhookParams,
    handler: async ({ deps, ctx, params }) => {
      await webhooks.deleteWebhook(deps, ctx, params.accountId, params.webhookId);
      return {};
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries",
    operationId: "ListWebhookDeliveries",
    actions: ["webhooks.list"],
    summary: "The webhook's delivery log, newest first: each event sent, its state and every attempt's response code (admin)",
    tag: "Webhooks",
    response: webhookDeliveryList,
    params: webhookParams,
    query: listQuery(50),
    handler: ({ deps, ctx, params, query }) => webhooks.listWebhookDeliveries(deps, ctx, params.accountId, params.webhookId, listRequest(query, deps.config)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries/{deliveryId}:redeliver",
    operationId: "RedeliverWebhookDelivery",
    actions: ["webhooks.update"],
    summary: "Send a delivery's event again now, with the same webhook-id, retried for a day (admin)",
    tag: "Webhooks",
    response: webhookDelivery,
    params: deliveryParams,
    handler: ({ deps, ctx, params }) => webhooks.redeliverWebhookDelivery(deps, ctx, params.accountId, params.webhookId, params.deliveryId),
  });
}
