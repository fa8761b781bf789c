import type { Registry } from "prom-client";
import { sql } from "kysely";
import type { Router } from "../route.ts";
import { openApiDocument } from "../openapi.ts";
import { anyQuery } from "../schemas.ts";
import { verifiedKey } from "../resources/api-key.ts";
import { principalHeaders, verifiedKeyOf } from "../verify-fast-path.ts";
import { health, metricsText, openApiDocumentSchema, readiness } from "../resources/operations.ts";

/** Operational endpoints: key verification for gateways, health, readiness, metrics, the API description. */
export function serviceRoutes(router: Router, metrics: Registry): void {
  router.add({
    method: "GET",
    url: "/verifyApiKey",
    operationId: "VerifyApiKey",
    actions: [],
    summary:
      "200 with x-fireworks-account-id (and x-hearth-* principal headers) for a valid key, 401 otherwise; usable as an nginx auth_request or Envoy ext_authz check",
    tag: "API keys",
    response: verifiedKey,
    query: anyQuery,
    // A valid, unrestricted key's answer usually comes from the fast path in front of the framework
    // (src/http/verify-fast-path.ts), with the same status, headers and body; this route answers the rest.
    handler: async ({ ctx, reply }) => {
      void reply.headers(principalHeaders(ctx.principal));
      return verifiedKeyOf(ctx.principal);
    },
  });

  router.add({
    method: "GET",
    url: "/healthz",
    operationId: "Health",
    summary: "Liveness: the process answers",
    tag: "Operations",
    response: health,
    auth: false,
    query: anyQuery,
    handler: async () => ({ status: "ok" }),
  });

  router.add({
    method: "GET",
    url: "/readyz",
    operationId: "Ready",
    summary: "Readiness: the store and the shared coordination (PostgreSQL or Redis) answer; 503 otherwise",
    tag: "Operations",
    response: readiness,
    auth: false,
    query: anyQuery,
    handler: async ({ deps, reply }) => {
      const store = await sql`select 1 as one`.execute(deps.store.db).then(
        () => true,
        () => false,
      );
      const cluster = await deps.cluster.ready();
      if (!store || !cluster) void reply.status(503);
      return { status: store && cluster ? "ready" : "unavailable", store, cluster: deps.cluster.mode, clusterReady: cluster };
    },
  });

  router.add({
    method: "GET",
    url: "/metrics",
    operationId: "Metrics",
    summary: "Prometheus metrics of this process (restrict access at the load balancer)",
    tag: "Operations",
    response: metricsText,
    responseType: "text/plain",
    auth: false,
    query: anyQuery,
    handler: async ({ reply }) => {
      void reply.type(metrics.contentType);
      return metrics.metrics();
    },
  });

  router.add({
    method: "GET",
    url: "/openapi.json",
    operationId: "OpenApi",
    summary: "This API's OpenAPI 3.1 description",
    tag: "Operations",
    response: openApiDocumentSchema,
    auth: false,
    query: anyQuery,
    handler: async () => openApiDocument(router.routes),
  });
}
