/**
 * @module A deployment's autoscaling policy as Fireworks names it (`Deployment.autoscalingPolicy`
 * in its REST API and Python SDK, `types/autoscaling_policy.py`; firectl's `--scale-up-window`,
 * `--scale-down-window`, `--scale-to-zero-window` and `--load-targets`, docs page "Autoscaling").
 * Desired state for the platform's scheduler: Hearth runs no GPU, so it stores, checks and reports it.
 */
import { invalidArgument } from "./errors.ts";

/** The load targets Fireworks documents (`--load-targets key=value,…`). */
export const LOAD_TARGET_KEYS = ["default", "tokens_generated_per_second", "prompt_tokens_per_second", "requests_per_second", "concurrent_requests"] as const;
export type LoadTargetKey = (typeof LOAD_TARGET_KEYS)[number];

/** The targets counted in whole tokens ("Desired tokens per second per replica", an integer). */
const WHOLE_TARGETS: ReadonlySet<string> = new Set(["tokens_generated_per_second", "prompt_tokens_per_second"]);

/** A stored policy: the fields that were set (windows in milliseconds); an absent one is Fireworks' default. */
export interface AutoscalingPolicy {
  scaleUpWindowMs?: number;
  scaleDownWindowMs?: number;
  scaleToZeroWindowMs?: number;
  loadTargets?: Partial<Record<LoadTargetKey, number>>;
}

/** Fireworks' defaults: scale up after 30 s, down after 10 min, to zero after 1 h idle; load target `default=0.8`. */
export const AUTOSCALING_DEFAULTS = {
  scaleUpWindowMs: 30_000,
  scaleDownWindowMs: 600_000,
  scaleToZeroWindowMs: 3_600_000,
  loadTargets: { default: 0.8 },
} as const;

/** "This must be at least 5 minutes" (Fireworks' AutoscalingPolicy.scale_to_zero_window). */
const MIN_SCALE_TO_ZERO_WINDOW_MS = 300_000;

/** A change to a policy: a field given replaces it, `null` returns it to its default, absent keeps it. */
export type AutoscalingPolicyPatch = { [K in keyof AutoscalingPolicy]?: AutoscalingPolicy[K] | null };

/**
 * `current` with `patch` applied, checked as Fireworks documents the fields: the scale-to-zero
 * window at least 5 minutes; load targets positive, `default` a fraction up to 1, the token rates
 * whole numbers; an empty set of load targets is the default one.
 * @throws ApiError INVALID_ARGUMENT naming the field (`autoscalingPolicy.…`).
 */
export function applyAutoscalingPatch(current: AutoscalingPolicy, patch: AutoscalingPolicyPatch): AutoscalingPolicy {
  const next: AutoscalingPolicy = { ...current };
  for (const key of ["scaleUpWindowMs", "scaleDownWindowMs", "scaleToZeroWindowMs", "loadTargets"] as const) {
    const value = patch[key];
    if (value === null) delete next[key];
    else if (value !== undefined) (next as Record<string, unknown>)[key] = value;
  }
  if (next.scaleToZeroWindowMs !== undefined && next.scaleToZeroWindowMs < MIN_SCALE_TO_ZERO_WINDOW_MS)
    throw invalidArgument(`autoscalingPolicy.scaleToZeroWindow must be at least 300s (5 minutes), not ${next.scaleToZeroWindowMs / 1000}s`);
  if (next.loadTargets !== undefined) {
    for (const [key, value] of Object.entries(next.loadTargets)) {
      const field = `autoscalingPolicy.loadTargets.${key}`;
      if (!(value > 0) || !Number.isFinite(value)) throw invalidArgument(`${field} must be a number above 0`);
      if (key === "default" && value > 1) throw invalidArgument(`${field} is a fraction of a replica's capacity, above 0 and at most 1`);
      if (WHOLE_TARGETS.has(key) && !Number.isInteger(value)) throw invalidArgument(`${field} must be a whole number of tokens per second`);
    }
    if (Object.keys(next.loadTargets).length === 0) delete next.loadTargets;
  }
  return next;
}
