import type { Router } from "../route.ts";
import { openApiDocument } from "../openapi.ts";

/** Operational endpoints: key verification for gateways, health, the API description. */
export function serviceRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/verifyApiKey",
    operationId: "VerifyApiKey",
    summary:
      "200 with x-fireworks-account-id (and x-hearth-* principal headers) for a valid key, 401 otherwise; usable as an nginx auth_request or Envoy ext_authz check",
    tag: "API keys",
    handler: async ({ ctx, reply }) => {
      const p = ctx.principal;
      void reply.headers({
        "x-fireworks-account-id": p.accountId,
        "x-hearth-user-id": p.userId,
        "x-hearth-principal": p.email,
        "x-hearth-role": p.role,
        "x-hearth-api-key-id": p.apiKeyId,
        "cache-control": "no-store",
      });
      return { accountId: p.accountId, userId: p.userId, email: p.email, role: p.role, serviceAccount: p.serviceAccount, keyId: p.apiKeyId };
    },
  });

  router.add({
    method: "GET",
    url: "/healthz",
    operationId: "Health",
    summary: "Liveness: the process answers",
    tag: "Operations",
    auth: false,
    handler: async () => ({ status: "ok" }),
  });

  router.add({
    method: "GET",
    url: "/openapi.json",
    operationId: "OpenApi",
    summary: "This API's OpenAPI 3.1 description",
    tag: "Operations",
    auth: false,
    handler: async () => openApiDocument(router.routes),
  });
}
