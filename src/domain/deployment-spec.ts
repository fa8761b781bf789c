/**
 * @module A deployment's desired state as Fireworks names it (Deployment in Fireworks' REST API and
 * Python SDK): replica bounds, accelerator, shape. Hearth runs no GPU, so these are stored and
 * reported, never acted on; the rules below are Fireworks' documented ones.
 */
import { invalidArgument } from "./errors.ts";

/** Fireworks' `Deployment.acceleratorType` values (Python SDK `types/deployment.py`), without ACCELERATOR_TYPE_UNSPECIFIED. */
export const ACCELERATOR_TYPES = [
  "NVIDIA_A100_80GB",
  "NVIDIA_H100_80GB",
  "AMD_MI300X_192GB",
  "NVIDIA_A10G_24GB",
  "NVIDIA_A100_40GB",
  "NVIDIA_L4_24GB",
  "NVIDIA_H200_141GB",
  "NVIDIA_B200_180GB",
  "AMD_MI325X_256GB",
] as const;

/** The largest replica or accelerator count: protobuf int32, as Fireworks declares these fields. */
export const MAX_INT32 = 2 ** 31 - 1;

/** Replica bounds, each a non-negative count. */
export interface ReplicaBounds {
  min: number;
  max: number;
}

/**
 * The bounds of a deployment from what was asked: `minReplicaCount` defaults to 0 and
 * `maxReplicaCount` to max(minReplicaCount, 1) (Fireworks' Deployment field docs).
 * @throws ApiError INVALID_ARGUMENT when minReplicaCount > maxReplicaCount.
 */
export function replicaBounds(min: number | undefined, max: number | undefined): ReplicaBounds {
  const lower = min ?? 0;
  const upper = max ?? Math.max(lower, 1);
  if (lower > upper) throw invalidArgument(`minReplicaCount (${lower}) must not exceed maxReplicaCount (${upper})`);
  return { min: lower, max: upper };
}

/**
 * `replicaCount` for `:scale` (Fireworks ScaleDeployment: "Must be non-negative"), which Hearth
 * also keeps within the deployment's bounds.
 * @throws ApiError INVALID_ARGUMENT naming the bounds.
 */
export function checkReplicaCount(count: number, bounds: ReplicaBounds): number {
  if (count < bounds.min || count > bounds.max)
    throw invalidArgument(`replicaCount ${count} is outside the deployment's bounds: minReplicaCount ${bounds.min}, maxReplicaCount ${bounds.max}`);
  return count;
}

/** `count` moved into `bounds` (after the bounds change, the replica count follows them). */
export const clampReplicaCount = (count: number, bounds: ReplicaBounds): number => Math.min(Math.max(count, bounds.min), bounds.max);
