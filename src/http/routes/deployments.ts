import { z } from "zod";
import * as deployments from "../../service/deployments.ts";
import type { Router } from "../route.ts";
import { accountParams, displayName, id, listQuery, listRequest, newId } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, updateMaskQuery, type UpdateMaskSpec } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { deployment, deploymentList } from "../resources/deployment.ts";

const deploymentParams = accountParams.extend({ deploymentId: example(id("deployment id"), "my-deployment") });

const deploymentFields = z.object({
  displayName: displayName().optional(),
  baseModel: z.string().max(300).optional(),
  backend: z.string().optional(),
});

/** A deployment's fields, for `readMask` (AIP-157). */
const DEPLOYMENT_FIELDS = fieldNames<Awaited<ReturnType<typeof deployments.getDeployment>>>()({
  name: true,
  displayName: true,
  baseModel: true,
  backend: true,
  state: true,
  status: true,
  createdBy: true,
  createTime: true,
  updateTime: true,
});

/** `updateMask` (AIP-134): a cleared backend is the model's own; the base model is required. */
const DEPLOYMENT_UPDATE: UpdateMaskSpec = {
  updatable: { displayName: { clear: "" }, baseModel: "required", backend: { clear: "" } },
  fields: DEPLOYMENT_FIELDS,
};

export function deploymentRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "ListDeployments",
    summary: "List the account's deployments",
    tag: "Deployments",
    response: deploymentList,
    params: accountParams,
    query: listQuery(50, { readMask: DEPLOYMENT_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await deployments.listDeployments(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, deployments: applyReadMask(page.deployments, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "CreateDeployment",
    summary: "Deploy a model on a backend; READY once the backend answers, FAILED with the reason otherwise (quota: deployments)",
    tag: "Deployments",
    response: deployment,
    params: accountParams,
    query: z.object({ deploymentId: example(newId("deploymentId"), "my-deployment").optional() }),
    body: example(deploymentFields, { displayName: "My deployment", baseModel: "accounts/my-account/models/my-model" }),
    handler: ({ deps, ctx, params, query, body }) => deployments.createDeployment(deps, ctx, params.accountId, query.deploymentId, body),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "GetDeployment",
    summary: "Get a deployment",
    tag: "Deployments",
    response: deployment,
    params: deploymentParams,
    query: readMaskQuery(DEPLOYMENT_FIELDS),
    handler: async ({ deps, ctx, params, query }) =>
      applyReadMaskTo(await deployments.getDeployment(deps, ctx, params.accountId, params.deploymentId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "UpdateDeployment",
    summary: "Update a deployment (its creator, or a user or admin); a deployment that is not READY is probed again",
    tag: "Deployments",
    response: deployment,
    params: deploymentParams,
    query: updateMaskQuery,
    body: example(deploymentFields.extend({ updateMask: z.string().optional() }), { displayName: "My deployment (renamed)" }),
    handler: ({ deps, ctx, params, query, body }) =>
      deployments.updateDeployment(
        deps,
        ctx,
        params.accountId,
        params.deploymentId,
        applyUpdateMask(DEPLOYMENT_UPDATE, body, query.updateMask ?? body.updateMask),
      ),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "DeleteDeployment",
    summary: "Delete a deployment (its creator, or a user or admin)",
    tag: "Deployments",
    response: empty,
    params: deploymentParams,
    handler: async ({ deps, ctx, params }) => {
      await deployments.deleteDeployment(deps, ctx, params.accountId, params.deploymentId);
      return {};
    },
  });
}
