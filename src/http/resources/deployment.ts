/**
 * @module The Deployment resource as the API returns it.
 */
import { z } from "zod";
import { listPage, status, timestamp } from "./common.ts";

/** A model deployed on a backend (`accounts/{accountId}/deployments/{deploymentId}`). */
export const deployment = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/deployments/my-deployment"] }),
    displayName: z.string(),
    /** The model's resource name. */
    baseModel: z.string(),
    backend: z.string(),
    /** CREATING, READY or FAILED (with the reason in `status`); DELETING then DELETED once deleted. */
    state: z.string().meta({ examples: ["READY"] }),
    status,
    createdBy: z.string(),
    createTime: timestamp,
    updateTime: timestamp,
    description: z.string(),
    annotations: z.record(z.string(), z.string()),
    /** How the platform's scheduler scales it (desired state): every field, unset ones at Fireworks' defaults. */
    autoscalingPolicy: z.object({
      scaleUpWindow: z.string().meta({ examples: ["30s"] }),
      scaleDownWindow: z.string().meta({ examples: ["600s"] }),
      scaleToZeroWindow: z.string().meta({ examples: ["3600s"] }),
      loadTargets: z.record(z.string(), z.number()).meta({ examples: [{ default: 0.8 }] }),
    }),
    /** Desired state (Hearth runs no GPU): the bounds `:scale` keeps `replicaCount` within. */
    minReplicaCount: z.int().meta({ examples: [0] }),
    maxReplicaCount: z.int().meta({ examples: [2] }),
    /** The replica count last asked for (`:scale`), within the bounds. */
    replicaCount: z.int().meta({ examples: [1] }),
    /** Absent when unspecified. */
    acceleratorType: z
      .string()
      .optional()
      .meta({ examples: ["NVIDIA_H100_80GB"] }),
    /** Accelerators per replica; absent when unspecified. */
    acceleratorCount: z.int().optional(),
    deploymentShape: z.string().optional(),
    /** When it was deleted; only on a deleted deployment. */
    deleteTime: timestamp.optional(),
    /** When a deleted deployment is purged for good (deleteTime + HEARTH_DELETED_RETENTION_DAYS). */
    purgeTime: timestamp.optional(),
  })
  .meta({ id: "Deployment" });
export type Deployment = z.output<typeof deployment>;

export const deploymentList = listPage("deployments", deployment).meta({ id: "ListDeploymentsResponse" });
