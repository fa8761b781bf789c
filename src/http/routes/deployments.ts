import { z } from "zod";
import * as deployments from "../../service/deployments.ts";
import type { Router } from "../route.ts";
import { accountParams, id, listQuery, listRequest, plainText } from "../schemas.ts";
import { maskedFields } from "../update-mask.ts";

const deploymentParams = accountParams.extend({ deploymentId: id("deployment id") });

const deploymentFields = z.object({
  displayName: plainText().optional(),
  baseModel: z.string().max(300).optional(),
  backend: z.string().optional(),
});
const UPDATABLE = ["displayName", "baseModel", "backend"] as const;

export function deploymentRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "ListDeployments",
    summary: "List the account's deployments",
    tag: "Deployments",
    params: accountParams,
    query: listQuery(50),
    handler: ({ deps, ctx, params, query }) => deployments.listDeployments(deps, ctx, params.accountId, listRequest(query, deps.config)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "CreateDeployment",
    summary: "Deploy a model on a backend; READY once the backend answers, FAILED with the reason otherwise (quota: deployments)",
    tag: "Deployments",
    params: accountParams,
    query: z.object({ deploymentId: z.string().optional() }),
    body: deploymentFields,
    handler: ({ deps, ctx, params, query, body }) => deployments.createDeployment(deps, ctx, params.accountId, query.deploymentId, body),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "GetDeployment",
    summary: "Get a deployment",
    tag: "Deployments",
    params: deploymentParams,
    handler: ({ deps, ctx, params }) => deployments.getDeployment(deps, ctx, params.accountId, params.deploymentId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "UpdateDeployment",
    summary: "Update a deployment (its creator, or a user or admin); a deployment that is not READY is probed again",
    tag: "Deployments",
    params: deploymentParams,
    query: z.object({ updateMask: z.string().optional() }),
    body: deploymentFields.extend({ updateMask: z.string().optional() }),
    handler: ({ deps, ctx, params, query, body }) =>
      deployments.updateDeployment(deps, ctx, params.accountId, params.deploymentId, maskedFields(body, query.updateMask ?? body.updateMask, UPDATABLE)),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "DeleteDeployment",
    summary: "Delete a deployment (its creator, or a user or admin)",
    tag: "Deployments",
    params: deploymentParams,
    handler: async ({ deps, ctx, params }) => {
      await deployments.deleteDeployment(deps, ctx, params.accountId, params.deploymentId);
      return {};
    },
  });
}
