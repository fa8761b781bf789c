import { z } from "zod";
import * as keys from "../../service/api-keys.ts";
import type { Router } from "../route.ts";
import { id, listQuery, listRequest, timestamp, userParams, plainText } from "../schemas.ts";

const keyParams = userParams.extend({ keyId: id("key id") });

const createBody = z.object({
  apiKey: z
    .object({
      displayName: plainText().optional(),
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
    params: userParams.extend({ userId: z.union([z.literal("-"), id("user id")]) }),
    query: listQuery(50),
    handler: ({ deps, ctx, params, query }) => keys.listApiKeys(deps, ctx, params.accountId, params.userId, listRequest(query, deps.config)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys",
    operationId: "CreateApiKey",
    summary: "Create an API key; the response is the only time its secret `key` is returned",
    tag: "API keys",
    params: userParams,
    body: createBody,
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
    params: keyParams,
    handler: ({ deps, ctx, params }) => keys.getApiKey(deps, ctx, params.accountId, params.userId, params.keyId),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys:delete",
    operationId: "DeleteApiKey",
    summary: "Delete (revoke) an API key",
    tag: "API keys",
    params: userParams,
    body: z.object({ keyId: id("keyId") }),
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
    params: keyParams,
    handler: async ({ deps, ctx, params }) => {
      await keys.deleteApiKey(deps, ctx, params.accountId, params.userId, params.keyId);
      return {};
    },
  });
}
