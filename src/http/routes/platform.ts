import type { FastifyInstance } from "fastify";
import type { Deps } from "../../service/context.ts";
import type { Router } from "../route.ts";
import { billingRoutes } from "./billing.ts";
import { datasetRoutes, registerUploadParser } from "./datasets.ts";
import { deploymentRoutes } from "./deployments.ts";
import { inferenceRoutes } from "./inference.ts";
import { modelRoutes } from "./models.ts";

/**
 * What keys act on (docs/inference.md): models, deployments,
 * datasets, billing usage, and the inference gateway (whose routes declare OpenAI's error shape).
 */
export function platformRoutes(app: FastifyInstance, router: Router, deps: Deps): void {
  registerUploadParser(app);
  modelRoutes(router, deps.config.platform.publicAccountId);
  deploymentRoutes(router);
  datasetRoutes(router);
  billingRoutes(router);
  inferenceRoutes(router);
}
