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
    /** CREATING, READY or FAILED (with the reason in `status`). */
    state: z.string().meta({ examples: ["READY"] }),
    status,
    createdBy: z.string(),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "Deployment" });
export type Deployment = z.output<typeof deployment>;

export const deploymentList = listPage("deployments", deployment).meta({ id: "ListDeploymentsResponse" });
