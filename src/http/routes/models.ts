import { z } from "zod";
import * as models from "../../service/models.ts";
import type { Router } from "../route.ts";
import { accountParams, id, listQuery, listRequest, plainText } from "../schemas.ts";
import { maskedFields } from "../update-mask.ts";

const modelParams = accountParams.extend({ modelId: id("model id") });

const modelFields = z.object({
  displayName: plainText().optional(),
  description: plainText().optional(),
  backend: z.string().optional(),
  upstreamModel: z.string().max(256).optional(),
  inputPricePerMillionTokens: z.number().optional(),
  outputPricePerMillionTokens: z.number().optional(),
});
const UPDATABLE = ["displayName", "description", "backend", "upstreamModel", "inputPricePerMillionTokens", "outputPricePerMillionTokens"] as const;

/** Models of an account (and the operator's public catalogue under `accounts/{publicAccountId}`). */
export function modelRoutes(router: Router, publicAccountId: string): void {
  // The public catalogue: a static path, so it wins over `{accountId}` and is visible to every account.
  router.add({
    method: "GET",
    url: `/v1/accounts/${publicAccountId}/models`,
    operationId: "ListPublicModels",
    summary: "List the public models every account may use (declared by the operator in HEARTH_CONFIG)",
    tag: "Models",
    handler: ({ deps, ctx }) => models.listPublicModels(deps, ctx),
  });

  router.add({
    method: "GET",
    url: `/v1/accounts/${publicAccountId}/models/{modelId}`,
    operationId: "GetPublicModel",
    summary: "Get a public model",
    tag: "Models",
    params: z.object({ modelId: id("model id") }),
    handler: ({ deps, ctx, params }) => models.getPublicModel(deps, ctx, params.modelId),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/models",
    operationId: "ListModels",
    summary: "List the account's models",
    tag: "Models",
    params: accountParams,
    query: listQuery(50),
    handler: ({ deps, ctx, params, query }) => models.listModels(deps, ctx, params.accountId, listRequest(query, deps.config)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/models",
    operationId: "CreateModel",
    summary: "Create a model served by a configured backend (contributor, user, admin)",
    tag: "Models",
    params: accountParams,
    query: z.object({ modelId: z.string().optional() }),
    body: modelFields.extend({ modelId: z.string().optional(), model: modelFields.optional() }),
    handler: ({ deps, ctx, params, query, body }) => {
      const { modelId, model, ...flat } = body;
      return models.createModel(deps, ctx, params.accountId, query.modelId ?? modelId, { ...flat, ...model });
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "GetModel",
    summary: "Get a model",
    tag: "Models",
    params: modelParams,
    handler: ({ deps, ctx, params }) => models.getModel(deps, ctx, params.accountId, params.modelId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "UpdateModel",
    summary: "Update a model (its creator, or a user or admin)",
    tag: "Models",
    params: modelParams,
    query: z.object({ updateMask: z.string().optional() }),
    body: modelFields.extend({ updateMask: z.string().optional() }),
    handler: ({ deps, ctx, params, query, body }) =>
      models.updateModel(deps, ctx, params.accountId, params.modelId, maskedFields(body, query.updateMask ?? body.updateMask, UPDATABLE)),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "DeleteModel",
    summary: "Delete a model no deployment uses (its creator, or a user or admin)",
    tag: "Models",
    params: modelParams,
    handler: async ({ deps, ctx, params }) => {
      await models.deleteModel(deps, ctx, params.accountId, params.modelId);
      return {};
    },
  });
}
