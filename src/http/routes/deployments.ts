import { z } from "zod";
import * as deployments from "../../service/deployments.ts";
import type { Router } from "../route.ts";
import { accountParams, annotations, displayName, duration, id, listQuery, listRequest, newId, plainText } from "../schemas.ts";
import { FIELD_RULES, refusal } from "../../domain/field-rules.ts";
import { WHOLE_SENTENCE } from "../../domain/describe-issue.ts";
import { LOAD_TARGET_KEYS } from "../../domain/autoscaling-policy.ts";
import { ACCELERATOR_TYPES, MAX_INT32 } from "../../domain/deployment-spec.ts";
import { DEPLOYMENT_OPTION_FIELDS, HOT_LOAD_BUCKET_TYPES, MULTI_REGIONS, PRECISIONS, REGIONS } from "../../domain/deployment-options.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { deployment, deploymentList } from "../resources/deployment.ts";

const deploymentParams = accountParams.extend({ deploymentId: example(id("deployment id"), "my-deployment") });

/** A boolean query parameter as Fireworks' clients send it: `true` or `false` (absent: false). */
const flag = (what: string, description: string) =>
  z
    .enum(["true", "false"], { error: `${what} must be true or false` })
    .optional()
    .transform((v) => v === "true")
    .meta({ description });

const count = (what: string) =>
  z
    .int({ error: `${what} must be a whole number` })
    .min(0, { error: `${what} must not be negative` })
    .max(MAX_INT32);

/**
 * Why `expireTime` is refused: Fireworks deletes a deployment at its expireTime (SDK
 * `types/deployment.py`: "The time at which this deployment will automatically be deleted";
 * firectl's `--expire-time`). Hearth deletes a deployment only when asked and purges deleted ones
 * lazily, when next read: no timer could delete a live one, and a deployment kept past the time a
 * script set would go on serving and counting toward the quota. So it refuses the field rather
 * than store it as if honoured. (The newest SDK marks the field deprecated and no longer deleting;
 * were Fireworks to drop the deletion everywhere, accepting and ignoring it would match.)
 */
const NO_EXPIRY =
  "Hearth does not expire deployments (Fireworks deletes one at its expireTime): leave expireTime unset and delete the deployment when done (DELETE, or firectl deployment delete)";

/** A boolean body field. */
const bool = (what: string) => z.boolean({ error: `${what} must be true or false` });

/** A Fireworks enum field: one of `values`, or `unspecified` or "" (unset), read as "". */
const fireworksEnum = (what: string, values: readonly string[], unspecified: string) =>
  z
    .enum(["", unspecified, ...values], { error: `${what} must be one of ${values.join(", ")}` })
    .transform((v) => (v === unspecified ? "" : v))
    .meta({ description: `one of ${values.join(", ")}` });

/** A deployment shape: its id, or `accounts/{a}/deploymentShapes/{s}` with an optional `/versions/{v}` (Fireworks' Deployment.deploymentShape). */
const DEPLOYMENT_SHAPE =
  /^([a-z][a-z0-9-]{0,62}|accounts\/[a-z][a-z0-9-]{0,62}\/deploymentShapes\/[a-z][a-z0-9-]{0,62}(\/versions\/[a-z0-9][a-z0-9-]{0,62})?)$/;

const deploymentFields = z.object({
  displayName: displayName().optional(),
  baseModel: z.string().max(300).optional(),
  backend: z.string().optional(),
  description: plainText().max(1000).optional(),
  annotations: annotations().optional(),
  minReplicaCount: count("minReplicaCount").optional(),
  maxReplicaCount: count("maxReplicaCount").nullable().optional(),
  // Fireworks' AutoscalingPolicy; its rules (the scale-to-zero minimum, the targets' ranges) are checked by the service.
  autoscalingPolicy: z
    .object({
      scaleUpWindow: duration("autoscalingPolicy.scaleUpWindow").optional(),
      scaleDownWindow: duration("autoscalingPolicy.scaleDownWindow").optional(),
      scaleToZeroWindow: duration("autoscalingPolicy.scaleToZeroWindow").optional(),
      loadTargets: z
        .partialRecord(z.enum(LOAD_TARGET_KEYS), z.number(), {
          // zod reports a key outside the enum as unrecognized_keys, which its issue type for records leaves out.
          error: (issue) => ((issue.code as string) === "unrecognized_keys" ? `the keys are ${LOAD_TARGET_KEYS.join(", ")}` : undefined),
        })
        .optional(),
    })
    .optional(),
  acceleratorType: fireworksEnum("acceleratorType", ACCELERATOR_TYPES, "ACCELERATOR_TYPE_UNSPECIFIED").optional(),
  acceleratorCount: count("acceleratorCount").optional(),
  deploymentShape: z
    .string()
    .regex(DEPLOYMENT_SHAPE, { error: "deploymentShape is a shape id or accounts/{account}/deploymentShapes/{shape}[/versions/{version}]" })
    .or(z.literal(""))
    .optional(),
  // Serving options (domain/deployment-options.ts): Fireworks' enums and int32 bounds here, the rules across fields in the service.
  precision: fireworksEnum("precision", PRECISIONS, "PRECISION_UNSPECIFIED").optional(),
  placement: z
    .object({
      region: fireworksEnum("placement.region", REGIONS, "REGION_UNSPECIFIED").optional(),
      multiRegion: fireworksEnum("placement.multiRegion", MULTI_REGIONS, "MULTI_REGION_UNSPECIFIED").optional(),
      regions: z
        .array(fireworksEnum("placement.regions", REGIONS, "REGION_UNSPECIFIED"))
        .max(REGIONS.length)
        .optional(),
    })
    .nullable()
    .optional(),
  enableAddons: bool("enableAddons").optional(),
  enableHotReloadLatestAddon: bool("enableHotReloadLatestAddon").optional(),
  draftModel: z.string().max(300).optional(),
  draftTokenCount: count("draftTokenCount").optional(),
  ngramSpeculationLength: count("ngramSpeculationLength").optional(),
  enableSessionAffinity: bool("enableSessionAffinity").optional(),
  autoTune: z
    .object({ longPrompt: bool("autoTune.longPrompt").optional() })
    .nullable()
    .optional(),
  disableDeploymentSizeValidation: bool("disableDeploymentSizeValidation").optional(),
  enableMtp: bool("enableMtp").optional(),
  enableHotLoad: bool("enableHotLoad").optional(),
  hotLoadBucketType: fireworksEnum("hotLoadBucketType", HOT_LOAD_BUCKET_TYPES, "BUCKET_TYPE_UNSPECIFIED").optional(),
  hotLoadBucketUrl: plainText().max(2048).optional(),
  maxContextLength: count("maxContextLength").optional(),
  // Fields of Fireworks' Deployment that Hearth cannot honour: accepted unset, refused set, never stored as if honoured.
  expireTime: z
    .string()
    .superRefine((value, ctx) => {
      if (value === "") return;
      const message = refusal(FIELD_RULES.timestamp, "expireTime", value) ?? NO_EXPIRY;
      ctx.addIssue({ code: "custom", message, params: { [WHOLE_SENTENCE]: true } });
    })
    .meta({ description: "refused when set: Hearth does not expire deployments" })
    .optional(),
  directRouteType: fireworksEnum("directRouteType", ["INTERNET", "GCP_PRIVATE_SERVICE_CONNECT", "AWS_PRIVATELINK"], "DIRECT_ROUTE_TYPE_UNSPECIFIED")
    .refine((v) => v === "", { error: "Hearth serves deployments only through its gateway: direct routes (directRouteType) are not offered" })
    .optional(),
  directRouteApiKeys: z
    .array(z.string())
    .max(0, { error: "Hearth serves deployments only through its gateway: direct routes (directRouteApiKeys) are not offered" })
    .optional(),
});

/** The update mask's clearing of each serving option: back to unset. */
const OPTION_CLEARING = Object.fromEntries(DEPLOYMENT_OPTION_FIELDS.map((field) => [field === "autoTune" ? "autoTune.longPrompt" : field, { clear: null }]));

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
  description: true,
  annotations: true,
  autoscalingPolicy: true,
  minReplicaCount: true,
  maxReplicaCount: true,
  replicaCount: true,
  acceleratorType: true,
  acceleratorCount: true,
  deploymentShape: true,
  precision: true,
  placement: true,
  enableAddons: true,
  enableHotReloadLatestAddon: true,
  draftModel: true,
  draftTokenCount: true,
  ngramSpeculationLength: true,
  enableSessionAffinity: true,
  autoTune: true,
  disableDeploymentSizeValidation: true,
  enableMtp: true,
  enableHotLoad: true,
  hotLoadBucketType: true,
  hotLoadBucketUrl: true,
  maxContextLength: true,
  deleteTime: true,
  purgeTime: true,
});

/** `updateMask` (AIP-134): a cleared backend is the model's own, a cleared maxReplicaCount max(minReplicaCount, 1); the base model is required. */
const DEPLOYMENT_UPDATE: UpdateMaskSpec = {
  updatable: {
    displayName: { clear: "" },
    baseModel: "required",
    backend: { clear: "" },
    description: { clear: "" },
    annotations: { clear: {} },
    minReplicaCount: { clear: 0 },
    maxReplicaCount: { clear: null },
    // null: back to Fireworks' default.
    "autoscalingPolicy.scaleUpWindow": { clear: null },
    "autoscalingPolicy.scaleDownWindow": { clear: null },
    "autoscalingPolicy.scaleToZeroWindow": { clear: null },
    "autoscalingPolicy.loadTargets": { clear: null },
    acceleratorType: { clear: "" },
    acceleratorCount: { clear: 0 },
    deploymentShape: { clear: "" },
    ...OPTION_CLEARING,
  },
  fields: DEPLOYMENT_FIELDS,
};

export function deploymentRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "ListDeployments",
    actions: ["deployments.list"],
    summary: "List the account's deployments",
    tag: "Deployments",
    response: deploymentList,
    params: accountParams,
    query: listQuery(50, { readMask: DEPLOYMENT_FIELDS, extra: { showDeleted: flag("showDeleted", "include DELETED deployments (until purged)") } }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await deployments.listDeployments(deps, ctx, params.accountId, listRequest(query, deps.config), query.showDeleted);
      return { ...page, deployments: applyReadMask(page.deployments, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/deployments",
    operationId: "CreateDeployment",
    actions: ["deployments.create"],
    summary:
      "Deploy a model on a backend; READY once the backend answers, FAILED with the reason otherwise (quota: deployments). Without deploymentId, one is generated",
    tag: "Deployments",
    response: deployment,
    params: accountParams,
    query: z.object({
      deploymentId: example(newId("deploymentId"), "my-deployment").optional(),
      validateOnly: flag("validateOnly", "check the request and return the deployment that would be created, without creating it"),
      disableSpeculativeDecoding: flag(
        "disableSpeculativeDecoding",
        "accepted for Fireworks clients: it turns off the speculative decoding a base model brings by default, and Hearth's models bring none",
      ),
    }),
    body: example(deploymentFields, {
      displayName: "My deployment",
      baseModel: "accounts/my-account/models/my-model",
      minReplicaCount: 0,
      maxReplicaCount: 2,
      acceleratorType: "NVIDIA_H100_80GB",
    }),
    handler: ({ deps, ctx, params, query, body }) => deployments.createDeployment(deps, ctx, params.accountId, query.deploymentId, body, query.validateOnly),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "GetDeployment",
    actions: ["deployments.get"],
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
    actions: ["deployments.manageOwn", "deployments.manageOthers"],
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
        applyUpdateMask(DEPLOYMENT_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask)),
      ),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}",
    operationId: "DeleteDeployment",
    actions: ["deployments.manageOwn", "deployments.manageOthers"],
    summary:
      "Delete a deployment (its creator, or a user or admin): DELETED, restorable with :undelete until purged after HEARTH_DELETED_RETENTION_DAYS; hard=true purges it at once",
    tag: "Deployments",
    response: empty,
    params: deploymentParams,
    query: z.object({
      hard: flag("hard", "purge at once instead of a soft delete"),
      ignoreChecks: flag("ignoreChecks", "accepted for Fireworks clients; Hearth has no in-use check to skip"),
    }),
    handler: async ({ deps, ctx, params, query }) => {
      await deployments.deleteDeployment(deps, ctx, params.accountId, params.deploymentId, query.hard);
      return {};
    },
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}:scale",
    operationId: "ScaleDeployment",
    actions: ["deployments.manageOwn", "deployments.manageOthers"],
    summary: "Set the replica count the deployment asks for, within [minReplicaCount, maxReplicaCount] (desired state: Hearth runs no GPU)",
    tag: "Deployments",
    response: deployment,
    params: deploymentParams,
    body: example(z.object({ replicaCount: count("replicaCount") }), { replicaCount: 1 }),
    handler: ({ deps, ctx, params, body }) => deployments.scaleDeployment(deps, ctx, params.accountId, params.deploymentId, body.replicaCount),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/deployments/{deploymentId}:undelete",
    operationId: "UndeleteDeployment",
    actions: ["deployments.manageOwn", "deployments.manageOthers"],
    summary: "Restore a deleted deployment before it is purged (quota: deployments); probed again as at creation",
    tag: "Deployments",
    response: deployment,
    params: deploymentParams,
    handler: ({ deps, ctx, params }) => deployments.undeleteDeployment(deps, ctx, params.accountId, params.deploymentId),
  });
}
