import { z } from "zod";
import { proxyInference } from "../../gateway/proxy.ts";
import type { Router } from "../route.ts";
import { chatCompletion, chatCompletionRequestExample, completion, completionRequestExample } from "../resources/inference.ts";

/** Documented for OpenAPI; checked by the gateway (`proxyInference`), so that a refused request is audited. */
const requestBody = z.looseObject({
  model: z.unknown().describe("accounts/{a}/models/{m}, accounts/{a}/models/{m}#accounts/{a}/deployments/{d}, or accounts/{a}/deployments/{d}"),
  stream: z.unknown().optional(),
});

/** The OpenAI-compatible inference gateway (README, Models, deployments, datasets and inference). */
export function inferenceRoutes(router: Router): void {
  const routes = [
    [
      "/inference/v1/chat/completions",
      "/chat/completions",
      "CreateChatCompletion",
      "OpenAI-compatible chat completion (streaming with stream: true)",
      chatCompletion,
      chatCompletionRequestExample,
    ],
    [
      "/inference/v1/completions",
      "/completions",
      "CreateCompletion",
      "OpenAI-compatible text completion (streaming with stream: true)",
      completion,
      completionRequestExample,
    ],
  ] as const;
  for (const [url, path, operationId, summary, response, requestExample] of routes) {
    router.add({
      method: "POST",
      url,
      operationId,
      summary,
      tag: "Inference",
      errorFormat: "openai",
      response,
      body: requestBody.meta({ examples: [requestExample] }),
      handler: ({ deps, ctx, body, request, reply }) => proxyInference(deps, ctx, body, request, reply, path, operationId),
    });
  }
}
