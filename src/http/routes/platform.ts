import type { FastifyInstance } from "fastify";
import type { Deps } from "../../service/context.ts";
import { openAiErrorHandler } from "../openai-errors.ts";
import { Router } from "../route.ts";
import { billingRoutes } from "./billing.ts";
import { datasetRoutes, registerUploadParser } from "./datasets.ts";
import { deploymentRoutes } from "./deployments.ts";
import { inferenceRoutes } from "./inference.ts";
import { modelRoutes } from "./models.ts";

/**
 * What keys act on (README, Models, deployments, datasets and inference): models, deployments, datasets, billing usage, and the inference
 * gateway. The gateway lives in its own scope so that its errors take OpenAI's shape; its routes
 * still join the one OpenAPI document.
 */
export function platformRoutes(app: FastifyInstance, router: Router, deps: Deps): void {
  registerUploadParser(app);
  modelRoutes(router, deps.config.platform.publicAccountId);
  deploymentRoutes(router);
  datasetRoutes(router);
  billingRoutes(router);
  void app.register(async (scope) => {
    scope.setErrorHandler(openAiErrorHandler);
    const gateway = new Router(scope, deps);
    inferenceRoutes(gateway);
    router.routes.push(...gateway.routes);
  });
}
