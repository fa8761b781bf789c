import { z } from "zod";
import * as models from "../../service/models.ts";
import type { Router } from "../route.ts";
import { accountParams, displayName, id, listQuery, listRequest, newId, plainText } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { model, modelList } from "../resources/model.ts";
import { mergeNested, sameValue } from "../same-value.ts";

const modelParams = accountParams.extend({ modelId: example(id("model id"), "my-model") });

const modelFields = z.object({
  displayName: displayName().optional(),
  description: plainText().max(1000).optional(),
  backend: z.string().optional(),
  upstreamModel: plainText().max(256).optional(),
  inputPricePerMillionTokens: z.number().optional(),
  outputPricePerMillionTokens: z.number().optional(),
});

/** A model's fields, for `readMask` (AIP-157). */
const MODEL_FIELDS = fieldNames<Awaited<ReturnType<typeof models.getModel>>>()({
  name: true,
  displayName: true,
  description: true,
  backend: true,
  upstreamModel: true,
  kind: true,
  inputPricePerMillionTokens: true,
  outputPricePerMillionTokens: true,
  state: true,
  status: true,
  public: true,
  createdBy: true,
  createTime: true,
  updateTime: true,
});

/** `updateMask` (AIP-134): cleared, the upstream model is the model's id again and a price is 0; the backend is required. */
const MODEL_UPDATE: UpdateMaskSpec = {
  updatable: {
    displayName: { clear: "" },
    description: { clear: "" },
    backend: "required",
    upstreamModel: { clear: "" },
    inputPricePerMillionTokens: { clear: 0 },
    outputPricePerMillionTokens: { clear: 0 },
  },
  fields: MODEL_FIELDS,
};

/** Models of an account (and the operator's public catalogue under `accounts/{publicAccountId}`). */
export function modelRoutes(router: Router, publicAccountId: string): void {
  // The public catalogue: a static path, so it wins over `{accountId}` and is visible to every account.
  router.add({
    method: "GET",
    url: `/v1/accounts/${publicAccountId}/models`,
    operationId: "ListPublicModels",
    actions: ["models.list"],
    summary: "List the public models every account may use (declared by the operator in HEARTH_CONFIG)",
    tag: "Models",
    response: modelList,
    query: listQuery(50, { readMask: MODEL_FIELDS }),
    handler: async ({ deps, ctx, query }) => {
      const page = await models.listPublicModels(deps, ctx, listRequest(query, deps.config));
      return { ...page, models: applyReadMask(page.models, query.readMask) };
    },
  });

  router.add({
    method: "GET",
    url: `/v1/accounts/${publicAccountId}/models/{modelId}`,
    operationId: "GetPublicModel",
    actions: ["models.get"],
    summary: "Get a public model",
    tag: "Models",
    response: model,
    params: z.object({ modelId: id("model id") }),
    query: readMaskQuery(MODEL_FIELDS),
    handler: async ({ deps, ctx, params, query }) => applyReadMaskTo(await models.getPublicModel(deps, ctx, params.modelId), query.readMask),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/models",
    operationId: "ListModels",
    actions: ["models.list"],
    summary: "List the account's models",
    tag: "Models",
    response: modelList,
    params: accountParams,
    query: listQuery(50, { readMask: MODEL_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await models.listModels(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, models: applyReadMask(page.models, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/models",
    operationId: "CreateModel",
    actions: ["models.create"],
    summary: "Create a model served by a configured backend (contributor, user, admin)",
    tag: "Models",
    response: model,
    params: accountParams,
    query: z.object({ modelId: example(newId("modelId"), "my-model").optional() }),
    body: example(modelFields.extend({ modelId: newId("modelId").optional(), model: modelFields.optional() }), {
      displayName: "My model",
      backend: "local",
      upstreamModel: "tiny-upstream",
      inputPricePerMillionTokens: 0.2,
      outputPricePerMillionTokens: 0.8,
    }),
    handler: ({ deps, ctx, params, query, body }) => {
      const { modelId, model, ...flat } = body;
      const id = sameValue("modelId", { "the query": query.modelId, "the body": modelId });
      return models.createModel(deps, ctx, params.accountId, id, mergeNested(flat, model, "model"));
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "GetModel",
    actions: ["models.get"],
    summary: "Get a model",
    tag: "Models",
    response: model,
    params: modelParams,
    query: readMaskQuery(MODEL_FIELDS),
    handler: async ({ deps, ctx, params, query }) => applyReadMaskTo(await models.getModel(deps, ctx, params.accountId, params.modelId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "UpdateModel",
    actions: ["models.manageOwn", "models.manageOthers"],
    summary: "Update a model (its creator, or a user or admin)",
    tag: "Models",
    response: model,
    params: modelParams,
    query: updateMaskQuery,
    body: example(modelFields.extend({ updateMask: z.string().optional() }), { description: "A small model for trying things out" }),
    handler: ({ deps, ctx, params, query, body }) =>
      models.updateModel(deps, ctx, params.accountId, params.modelId, applyUpdateMask(MODEL_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask))),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/models/{modelId}",
    operationId: "DeleteModel",
    actions: ["models.manageOwn", "models.manageOthers"],
    summary: "Delete a model no deployment uses (its creator, or a user or admin)",
    tag: "Models",
    response: empty,
    params: modelParams,
    handler: async ({ deps, ctx, params }) => {
      await models.deleteModel(deps, ctx, params.accountId, params.modelId);
      return {};
    },
  });
}
