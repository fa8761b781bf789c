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
    // Serving options (domain/deployment-options.ts): desired state, each absent when unset.
    precision: z
      .string()
      .optional()
      .meta({ examples: ["FP8"] }),
    /** Where it must run: one of region, multiRegion, regions; absent: the GLOBAL multi-region. */
    placement: z
      .object({ region: z.string().optional(), multiRegion: z.string().optional(), regions: z.array(z.string()).optional() })
      .optional()
      .meta({ examples: [{ multiRegion: "US" }] }),
    enableAddons: z.boolean().optional(),
    enableHotReloadLatestAddon: z.boolean().optional(),
    /** The draft model's resource name (speculative decoding). */
    draftModel: z.string().optional(),
    draftTokenCount: z.int().optional(),
    ngramSpeculationLength: z.int().optional(),
    enableSessionAffinity: z.boolean().optional(),
    autoTune: z.object({ longPrompt: z.boolean().optional() }).optional(),
    disableDeploymentSizeValidation: z.boolean().optional(),
    enableMtp: z.boolean().optional(),
    enableHotLoad: z.boolean().optional(),
    hotLoadBucketType: z.string().optional(),
    hotLoadBucketUrl: z.string().optional(),
    maxContextLength: z.int().optional(),
    /** When it was deleted; only on a deleted deployment. */
    deleteTime: timestamp.optional(),
    /** When a deleted deployment is purged for good (deleteTime + HEARTH_DELETED_RETENTION_DAYS). */
    purgeTime: timestamp.optional(),
  })
  .meta({ id: "Deployment" });
export type Deployment = z.output<typeof deployment>;

export const deploymentList = listPage("deployments", deployment).meta({ id: "ListDeploymentsResponse" });
