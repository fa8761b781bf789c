import { z } from "zod";
import * as keys from "../../service/api-keys.ts";
import type { Router } from "../route.ts";
import { annotations, displayName, id, listQuery, listRequest, timestamp, userParams } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import type { ApiKey } from "../../service/views.ts";
import { empty, example } from "../resources/common.ts";
import { apiKey, apiKeyList } from "../resources/api-key.ts";
import { outputOnlyFields } from "../body-fields.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";

const keyParams = userParams.extend({ keyId: example(id("key id"), "a1b2c3d4e5f6g7h8") });

/** An API key's fields as lists and gets return them (the secret `key` only ever in the create response), for `readMask` (AIP-157). */
const API_KEY_FIELDS = fieldNames<Omit<ApiKey, "key">>()({
  name: true,
  keyId: true,
  displayName: true,
  prefix: true,
  email: true,
  createTime: true,
  expireTime: true,
  lastUsed: true,
  lastUsedIp: true,
  lastUsedUserAgent: true,
  state: true,
  disableReason: true,
  scopes: true,
  allowedModels: true,
  allowedCidrs: true,
  rpm: true,
  tpm: true,
  monthlySpendUsd: true,
  secure: true,
  annotations: true,
});

/** A key's restrictions, optional on create and update (checked, with sentences naming the field, by the service). */
const restrictionFields = {
  scopes: z.array(z.string()).optional().describe("Action names the key may take (within its owner's role); empty: its owner's role"),
  allowedModels: z
    .array(z.string())
    .optional()
    .describe(
      "Models or deployments the key may call: accounts/{a}/models/{m}, accounts/{a}/models/*, accounts/{a}/deployments/{d} or …/deployments/*; empty: any",
    ),
  allowedCidrs: z.array(z.string()).optional().describe("IPv4/IPv6 networks (CIDR) the key may be used from; empty: anywhere"),
  rpm: z.number().int().min(0).optional().describe("Requests per minute of this key; 0: only the account's quota"),
  tpm: z.number().int().min(0).optional().describe("Tokens per minute of this key; 0: only the account's quota"),
  monthlySpendUsd: z.number().min(0).optional().describe("US dollars per calendar month for this key; 0: only the account's quota"),
};

const createBody = z.object({
  apiKey: z
    .object({
      displayName: displayName().optional(),
      expireTime: timestamp("expireTime").optional(),
      /** Fireworks' Create API Key `annotations`; set at creation only (Fireworks has no update of a key). */
      annotations: annotations().optional(),
      ...restrictionFields,
    })
    .default({}),
});

/** `updateMask` (AIP-134): a cleared display name becomes "default"; a cleared restriction (empty list, 0) is lifted. */
const API_KEY_UPDATE = {
  updatable: {
    displayName: { clear: "" },
    scopes: { clear: [] },
    allowedModels: { clear: [] },
    allowedCidrs: { clear: [] },
    rpm: { clear: 0 },
    tpm: { clear: 0 },
    monthlySpendUsd: { clear: 0 },
  },
  fields: API_KEY_FIELDS,
} as const satisfies UpdateMaskSpec;

/**
 * UpdateApiKey's body: the ApiKey (AIP-134). A client may send back the whole key it read: every
 * field that is not updatable (and the create response's `key`) is output-only here, ignored —
 * except `expireTime` and `annotations`, set at creation (AIP-203 IMMUTABLE): accepted unchanged,
 * refused when they differ.
 */
const updateBody = z.object({
  ...outputOnlyFields("key", ...API_KEY_FIELDS.filter((f) => !Object.hasOwn(API_KEY_UPDATE.updatable, f))),
  expireTime: timestamp("expireTime").nullable().optional(),
  annotations: annotations().optional(),
  displayName: displayName().optional(),
  ...restrictionFields,
  updateMask: z.string().optional(),
});

export function apiKeyRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys",
    operationId: "ListApiKeys",
    actions: ["apiKeys.list", "apiKeys.listOthers"],
    summary: "List a principal's API keys (never their secrets); user `-` lists every key of the account (admin)",
    tag: "API keys",
    response: apiKeyList,
    params: userParams.extend({ userId: z.union([z.literal("-"), id("user id")]) }),
    query: listQuery(50, { readMask: API_KEY_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await keys.listApiKeys(deps, ctx, params.accountId, params.userId, listRequest(query, deps.config));
      return { ...page, apiKeys: applyReadMask(page.apiKeys, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys",
    operationId: "CreateApiKey",
    actions: ["apiKeys.create", "apiKeys.createForServiceAccount"],
    summary: "Create an API key; the response is the only time its secret `key` is returned",
    tag: "API keys",
    response: apiKey,
    params: userParams,
    body: example(createBody, {
      apiKey: {
        displayName: "CI deploy key",
        expireTime: "2099-12-31T00:00:00Z",
        scopes: ["models.list", "inference.run"],
        allowedModels: ["accounts/fireworks/models/*"],
      },
    }),
    handler: async ({ deps, ctx, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      return keys.createApiKey(deps, ctx, params.accountId, params.userId, body.apiKey);
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}",
    operationId: "GetApiKey",
    actions: ["apiKeys.get", "apiKeys.getOthers"],
    summary: "Get an API key's metadata; user `-` finds the key by its id whoever holds it (AIP-159), answered under its owner's name",
    tag: "API keys",
    response: apiKey,
    params: keyParams.extend({ userId: z.union([z.literal("-"), id("user id")]) }),
    query: readMaskQuery(API_KEY_FIELDS),
    handler: async ({ deps, ctx, params, query }) =>
      applyReadMaskTo(await keys.getApiKey(deps, ctx, params.accountId, params.userId, params.keyId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}",
    operationId: "UpdateApiKey",
    actions: ["apiKeys.update", "apiKeys.updateOthers"],
    summary: "Change an API key's display name or restrictions (scopes, allowedModels, allowedCidrs, rpm, tpm, monthlySpendUsd); effective on its next request",
    tag: "API keys",
    response: apiKey,
    params: keyParams,
    query: updateMaskQuery,
    body: example(updateBody, { scopes: ["models.list", "inference.run"], allowedCidrs: ["203.0.113.0/24"], rpm: 60 }),
    handler: ({ deps, ctx, params, query, body }) =>
      keys.updateApiKey(
        deps,
        ctx,
        params.accountId,
        params.userId,
        params.keyId,
        applyUpdateMask(API_KEY_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask)),
        {
          expireTime: body.expireTime,
          annotations: body.annotations,
        },
      ),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys:delete",
    operationId: "DeleteApiKey",
    actions: ["apiKeys.delete", "apiKeys.deleteOthers"],
    summary: "Delete (revoke) an API key",
    tag: "API keys",
    response: empty,
    params: userParams,
    body: example(z.object({ keyId: id("keyId") }), { keyId: "a1b2c3d4e5f6g7h8" }),
    handler: async ({ deps, ctx, params, body }) => {
      await keys.deleteApiKey(deps, ctx, params.accountId, params.userId, body.keyId);
      return {};
    },
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}",
    operationId: "DeleteApiKey",
    actions: ["apiKeys.delete", "apiKeys.deleteOthers"],
    summary: "Delete (revoke) an API key",
    tag: "API keys",
    response: empty,
    params: keyParams,
    handler: async ({ deps, ctx, params }) => {
      await keys.deleteApiKey(deps, ctx, params.accountId, params.userId, params.keyId);
      return {};
    },
  });
}
