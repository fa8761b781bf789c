import { z } from "zod";
import { getKeyPolicy, updateKeyPolicy, type KeyPolicyPatch } from "../../service/key-policy.ts";
import type { Router } from "../route.ts";
import { accountParams, duration } from "../schemas.ts";
import { fieldNames } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { example } from "../resources/common.ts";
import { keyPolicy, type KeyPolicy } from "../resources/key-policy.ts";

/** `updateMask` (AIP-134): a lifetime named without a value is removed (no limit, no default). */
const KEY_POLICY_UPDATE: UpdateMaskSpec = {
  updatable: { maxKeyLifetime: { clear: null }, defaultKeyLifetime: { clear: null }, requireExpiryForHumanKeys: { clear: false } },
  fields: fieldNames<KeyPolicy>()({ name: true, maxKeyLifetime: true, defaultKeyLifetime: true, requireExpiryForHumanKeys: true, updateTime: true }),
};

const updateBody = z
  .object({
    maxKeyLifetime: duration("maxKeyLifetime").optional(),
    defaultKeyLifetime: duration("defaultKeyLifetime").optional(),
    requireExpiryForHumanKeys: z.boolean().optional(),
    updateMask: z.string().optional(),
  })
  .strict();

export function keyPolicyRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/keyPolicy",
    operationId: "GetKeyPolicy",
    actions: ["keyPolicy.get"],
    summary: "Get the account's key policy: the longest and default lifetime of a new API key, and whether human users' keys must expire",
    tag: "API keys",
    response: keyPolicy,
    params: accountParams,
    handler: ({ deps, ctx, params }) => getKeyPolicy(deps, ctx, params.accountId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/keyPolicy",
    operationId: "UpdateKeyPolicy",
    actions: ["keyPolicy.update"],
    summary: "Change the account's key policy (admin); keys created or rotated from then on must keep to it",
    tag: "API keys",
    response: keyPolicy,
    params: accountParams,
    query: updateMaskQuery,
    body: example(updateBody, { defaultKeyLifetime: "7776000s", requireExpiryForHumanKeys: true }),
    handler: ({ deps, ctx, params, query, body }) =>
      updateKeyPolicy(deps, ctx, params.accountId, applyUpdateMask<KeyPolicyPatch>(KEY_POLICY_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask))),
  });
}
