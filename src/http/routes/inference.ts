import { z } from "zod";
import { getInferenceModel, listInferenceModels } from "../../gateway/models.ts";
import { gatewayExchange } from "../../gateway/exchange.ts";
import { INFERENCE_MOUNTS, INFERENCE_OPERATIONS } from "../../gateway/inference-routes.ts";
import { proxyInference } from "../../gateway/proxy.ts";
import type { Router } from "../route.ts";
import { anyQuery } from "../schemas.ts";
import {
  chatCompletion,
  chatCompletionRequestExample,
  completion,
  completionRequestExample,
  embeddingList,
  embeddingRequestExample,
  openAiModel,
  openAiModelList,
} from "../resources/inference.ts";

/**
 * The inference request body as the route declares it (OpenAPI), checked before the gateway's own
 * checks (`proxyInference`, which audits its refusals); the fast path checks it too.
 */
export const inferenceRequestBody = z.looseObject({
  model: z.unknown().describe("accounts/{a}/models/{m}, accounts/{a}/models/{m}#accounts/{a}/deployments/{d}, or accounts/{a}/deployments/{d}"),
  stream: z.unknown().optional(),
});

const modelParam = z.object({
  model: z
    .string()
    .meta({ description: "accounts/{a}/models/{m}; its slashes as they are or percent-encoded", examples: ["accounts/my-account/models/my-model"] }),
});

/** The OpenAI-compatible inference gateway (docs/inference.md), on each mount. */
export function inferenceRoutes(router: Router): void {
  for (const mount of INFERENCE_MOUNTS) mountInference(router, mount);
}

function mountInference(router: Router, mount: (typeof INFERENCE_MOUNTS)[number]): void {
  const routes = [
    ["/chat/completions", "OpenAI-compatible chat completion (streaming with stream: true)", chatCompletion, chatCompletionRequestExample],
    ["/completions", "OpenAI-compatible text completion (streaming with stream: true)", completion, completionRequestExample],
    ["/embeddings", "OpenAI-compatible embeddings, of a model of kind EMBEDDING_MODEL", embeddingList, embeddingRequestExample],
  ] as const;
  for (const [path, summary, response, requestExample] of routes) {
    const operationId = INFERENCE_OPERATIONS[path];
    router.add({
      method: "POST",
      url: `${mount}${path}`,
      operationId,
      actions: ["inference.run"],
      summary,
      tag: "Inference",
      errorFormat: "openai",
      // OpenAI-compatible clients may add parameters of their own (Azure's api-version): read none, refuse none.
      query: anyQuery,
      response,
      body: inferenceRequestBody.meta({ examples: [requestExample] }),
      handler: async ({ deps, ctx, body, request, reply }) => {
        const exchange = gatewayExchange(reply.raw, request.id, (err, message) => request.log.error({ err }, message));
        try {
          return await proxyInference(deps, ctx, body, exchange, path);
        } finally {
          // Also on an error: the error handler sets its own status, and the admission's headers stay.
          void reply.status(exchange.status).headers(exchange.headers);
        }
      },
    });
  }
  router.add({
    method: "GET",
    url: `${mount}/models`,
    operationId: "ListInferenceModels",
    actions: ["inference.run"],
    summary: "The models this key may run inference on (OpenAI's model list)",
    tag: "Inference",
    errorFormat: "openai",
    query: anyQuery,
    response: openAiModelList,
    handler: ({ deps, ctx }) => listInferenceModels(deps, ctx),
  });
  router.add({
    method: "GET",
    url: `${mount}/models/{model=**}`,
    operationId: "GetInferenceModel",
    actions: ["inference.run"],
    summary: "One model this key may run inference on (OpenAI's model object)",
    tag: "Inference",
    errorFormat: "openai",
    query: anyQuery,
    params: modelParam,
    response: openAiModel,
    handler: ({ deps, ctx, params }) => getInferenceModel(deps, ctx, params.model),
  });
}
