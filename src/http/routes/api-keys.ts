import { z } from "zod";
import * as keys from "../../service/api-keys.ts";
import type { Router } from "../route.ts";
import { displayName, id, listQuery, listRequest, timestamp, userParams } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import type { ApiKey } from "../../service/views.ts";
import { empty, example } from "../resources/common.ts";
import { apiKey, apiKeyList } from "../resources/api-key.ts";

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
  secure: true,
  annotations: true,
});

const createBody = z.object({
  apiKey: z
    .object({
      displayName: displayName().optional(),
      expireTime: timestamp("expireTime").optional(),
    })
    .default({}),
});

export function apiKeyRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys",
    operationId: "ListApiKeys",
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
    summary: "Create an API key; the response is the only time its secret `key` is returned",
    tag: "API keys",
    response: apiKey,
    params: userParams,
    body: example(createBody, { apiKey: { displayName: "CI deploy key", expireTime: "2099-12-31T00:00:00Z" } }),
    handler: async ({ deps, ctx, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      return keys.createApiKey(deps, ctx, params.accountId, params.userId, body.apiKey);
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}",
    operationId: "GetApiKey",
    summary: "Get an API key's metadata",
    tag: "API keys",
    response: apiKey,
    params: keyParams,
    query: readMaskQuery(API_KEY_FIELDS),
    handler: async ({ deps, ctx, params, query }) =>
      applyReadMaskTo(await keys.getApiKey(deps, ctx, params.accountId, params.userId, params.keyId), query.readMask),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys:delete",
    operationId: "DeleteApiKey",
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
