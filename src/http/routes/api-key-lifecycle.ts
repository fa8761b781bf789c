import { z } from "zod";
import { disableApiKey, enableApiKey, rotateApiKey } from "../../service/api-key-lifecycle.ts";
import { DISABLE_REASONS } from "../../domain/api-key-state.ts";
import type { Router } from "../route.ts";
import { duration, id, timestamp, userParams } from "../schemas.ts";
import { example } from "../resources/common.ts";
import { apiKey } from "../resources/api-key.ts";

const keyParams = userParams.extend({ keyId: example(id("key id"), "a1b2c3d4e5f6g7h8") });

const disableBody = z.object({ disableReason: z.enum(DISABLE_REASONS, { error: `disableReason must be one of ${DISABLE_REASONS.join(", ")}` }) }).strict();

/** The default grace period of a rotation: one day. */
const DEFAULT_GRACE = "86400s";

const rotateBody = z
  .object({
    gracePeriod: duration("gracePeriod")
      .prefault(DEFAULT_GRACE)
      .meta({ description: `How long the old key keeps working (protobuf Duration); default ${DEFAULT_GRACE}, "0s" revokes it at once` }),
    expireTime: timestamp("expireTime")
      .optional()
      .meta({ description: "The new key's expiry; default: the old key's lifetime from now, else the key policy's default" }),
  })
  .strict();

/** Custom methods of an API key's lifecycle (AIP-136): disable, enable, rotate. */
export function apiKeyLifecycleRoutes(router: Router): void {
  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}:disable",
    operationId: "DisableApiKey",
    actions: ["apiKeys.disable", "apiKeys.disableOthers"],
    summary: "Disable an API key with a reason: every process refuses it from its next request, naming the reason, until it is enabled",
    tag: "API keys",
    response: apiKey,
    params: keyParams,
    body: example(disableBody, { disableReason: "EXPOSED" }),
    handler: ({ deps, ctx, params, body }) => disableApiKey(deps, ctx, params.accountId, params.userId, params.keyId, body.disableReason),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}:enable",
    operationId: "EnableApiKey",
    actions: ["apiKeys.disable", "apiKeys.disableOthers"],
    summary: "Enable a disabled API key (it counts toward api-keys-per-user again)",
    tag: "API keys",
    response: apiKey,
    params: keyParams,
    body: example(z.object({}).strict(), {}),
    handler: ({ deps, ctx, params }) => enableApiKey(deps, ctx, params.accountId, params.userId, params.keyId),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}/apiKeys/{keyId}:rotate",
    operationId: "RotateApiKey",
    actions: ["apiKeys.rotate", "apiKeys.rotateForServiceAccount"],
    summary:
      "Rotate an API key: a new key with the same owner, display name and restrictions (its secret `key` in this response only); the old key expires after `gracePeriod`",
    tag: "API keys",
    response: apiKey,
    params: keyParams,
    body: example(rotateBody, { gracePeriod: "86400s" }),
    handler: async ({ deps, ctx, params, body, reply }) => {
      void reply.header("cache-control", "no-store");
      return rotateApiKey(deps, ctx, params.accountId, params.userId, params.keyId, body);
    },
  });
}
