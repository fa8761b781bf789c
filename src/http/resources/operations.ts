/**
 * @module What the operational endpoints return: health, readiness, metrics, this API's description.
 */
import { z } from "zod";

export const health = z.object({ status: z.literal("ok") }).meta({ id: "Health" });

/** Readiness of the store and of the shared coordination (`single`, `postgres` or `redis`); the same body comes with a 503. */
export const readiness = z
  .object({ status: z.enum(["ready", "unavailable"]), store: z.boolean(), cluster: z.string(), clusterReady: z.boolean() })
  .meta({ id: "Readiness" });

/** Prometheus' text exposition format. */
export const metricsText = z.string().meta({ description: "Prometheus text format" });

/** An OpenAPI 3.1 document (this one). */
export const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string().meta({ examples: ["3.1.0"] }),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .meta({ id: "OpenApiDocument" });
