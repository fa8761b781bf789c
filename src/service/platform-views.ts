import { datasetName, deploymentName, modelName } from "../domain/resource-names.ts";
import { formatDuration, formatTimestamp } from "../domain/time.ts";
import { AUTOSCALING_DEFAULTS, type AutoscalingPolicy } from "../domain/autoscaling-policy.ts";
import type { DeploymentOptions } from "../domain/deployment-options.ts";
import type { PublicModel } from "../platform-config.ts";
import type { DatasetRow, DeploymentRow, ModelRow } from "../store/platform-rows.ts";

import type { Dataset } from "../http/resources/dataset.ts";
import type { Deployment } from "../http/resources/deployment.ts";
import type { Model } from "../http/resources/model.ts";

/** The API's JSON shapes of models, deployments and datasets, declared once as the response schemas of `/openapi.json`. */
export type { Model };

export function modelView(row: ModelRow): Model {
  return {
    name: modelName(row.account_id, row.id),
    displayName: row.display_name,
    description: row.description,
    backend: row.backend,
    upstreamModel: row.upstream_model,
    kind: "HF_BASE_MODEL",
    inputPricePerMillionTokens: row.input_price,
    outputPricePerMillionTokens: row.output_price,
    state: "READY",
    status: { code: "OK", message: "" },
    public: false,
    createdBy: row.created_by,
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/** A model of the operator's catalogue (HEARTH_CONFIG), visible to every account. */
export function publicModelView(publicAccountId: string, m: PublicModel & { backend: string }): Model {
  return {
    name: modelName(publicAccountId, m.id),
    displayName: m.displayName,
    description: "",
    backend: m.backend,
    upstreamModel: m.upstreamModel,
    kind: m.kind,
    inputPricePerMillionTokens: m.inputPricePerMillionTokens,
    outputPricePerMillionTokens: m.outputPricePerMillionTokens,
    state: "READY",
    status: { code: "OK", message: "" },
    public: true,
    createdBy: "",
  };
}

/** A policy as Fireworks reports it: every field, the unset ones at their defaults, windows as protobuf Durations. */
function autoscalingPolicyView(policy: AutoscalingPolicy): Deployment["autoscalingPolicy"] {
  return {
    scaleUpWindow: formatDuration(policy.scaleUpWindowMs ?? AUTOSCALING_DEFAULTS.scaleUpWindowMs),
    scaleDownWindow: formatDuration(policy.scaleDownWindowMs ?? AUTOSCALING_DEFAULTS.scaleDownWindowMs),
    scaleToZeroWindow: formatDuration(policy.scaleToZeroWindowMs ?? AUTOSCALING_DEFAULTS.scaleToZeroWindowMs),
    loadTargets: { ...(policy.loadTargets ?? AUTOSCALING_DEFAULTS.loadTargets) },
  };
}

/** A deployment; a deleted one carries deleteTime and purgeTime (deleteTime + `retentionDays`). */
export function deploymentView(row: DeploymentRow, retentionDays: number): Deployment {
  return {
    name: deploymentName(row.account_id, row.id),
    displayName: row.display_name,
    baseModel: row.model,
    backend: row.backend,
    state: row.state,
    status: { code: row.state === "FAILED" ? "UNAVAILABLE" : "OK", message: row.status_message },
    createdBy: row.created_by,
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
    description: row.description,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    autoscalingPolicy: autoscalingPolicyView(JSON.parse(row.autoscaling_policy) as AutoscalingPolicy),
    minReplicaCount: row.min_replica_count,
    maxReplicaCount: row.max_replica_count,
    replicaCount: row.replica_count,
    ...(row.accelerator_type ? { acceleratorType: row.accelerator_type } : {}),
    ...(row.accelerator_count ? { acceleratorCount: row.accelerator_count } : {}),
    ...(row.deployment_shape ? { deploymentShape: row.deployment_shape } : {}),
    ...(JSON.parse(row.serving_options) as DeploymentOptions),
    ...(row.delete_time === null
      ? {}
      : { deleteTime: formatTimestamp(row.delete_time), purgeTime: formatTimestamp(row.delete_time + retentionDays * 24 * 3600 * 1000) }),
  };
}

export function datasetView(row: DatasetRow): Dataset {
  return {
    name: datasetName(row.account_id, row.id),
    displayName: row.display_name,
    state: row.state,
    format: row.format,
    status: { code: "OK", message: row.state === "UPLOADING" ? "waiting for an upload" : "" },
    exampleCount: String(row.example_count),
    sizeBytes: String(row.size_bytes),
    userUploaded: {},
    createdBy: row.created_by,
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}
