/**
 * @module A deployment's serving options as Fireworks names them (Deployment in its REST API and
 * Python SDK, `types/deployment_create_params.py`, `types/placement.py`): precision, placement,
 * add-ons, speculative decoding, session affinity, hot load and the like. Desired state for the
 * platform's scheduler: Hearth runs no GPU, so it checks, stores and reports them, and acts on none.
 */
import { invalidArgument } from "./errors.ts";

/** `Deployment.precision` (SDK `types/deployment.py`), without PRECISION_UNSPECIFIED. */
export const PRECISIONS = [
  "FP16",
  "FP8",
  "FP8_MM",
  "FP8_AR",
  "FP8_MM_KV_ATTN",
  "FP8_KV",
  "FP8_MM_V2",
  "FP8_V2",
  "FP8_MM_KV_ATTN_V2",
  "NF4",
  "FP4",
  "BF16",
  "FP4_BLOCKSCALED_MM",
  "FP4_MX_MOE",
] as const;

/** `Placement.multiRegion` (SDK `types/placement.py`; firectl's `--region US|EUROPE|APAC`, docs page "Regions"), without MULTI_REGION_UNSPECIFIED. */
export const MULTI_REGIONS = ["GLOBAL", "US", "EUROPE", "APAC"] as const;

/** `Placement.region` and `Placement.regions` (SDK `types/placement.py`), without REGION_UNSPECIFIED. */
export const REGIONS = [
  "US_IOWA_1",
  "US_VIRGINIA_1",
  "US_VIRGINIA_2",
  "US_ILLINOIS_1",
  "AP_TOKYO_1",
  "EU_LONDON_1",
  "US_ARIZONA_1",
  "US_TEXAS_1",
  "US_ILLINOIS_2",
  "EU_FRANKFURT_1",
  "US_TEXAS_2",
  "EU_PARIS_1",
  "EU_HELSINKI_1",
  "US_NEVADA_1",
  "EU_ICELAND_1",
  "EU_ICELAND_2",
  "US_WASHINGTON_1",
  "US_WASHINGTON_2",
  "EU_ICELAND_DEV_1",
  "US_WASHINGTON_3",
  "US_ARIZONA_2",
  "AP_TOKYO_2",
  "US_CALIFORNIA_1",
  "US_MISSOURI_1",
  "US_UTAH_1",
  "US_TEXAS_3",
  "US_ARIZONA_3",
  "US_GEORGIA_1",
  "US_GEORGIA_2",
  "US_WASHINGTON_4",
  "US_GEORGIA_3",
  "NA_BRITISHCOLUMBIA_1",
  "US_GEORGIA_4",
  "EU_ICELAND_3",
  "US_OHIO_1",
  "US_NEWYORK_1",
] as const;

/** `Deployment.hotLoadBucketType` (SDK `types/deployment_create_params.py`), without BUCKET_TYPE_UNSPECIFIED. */
export const HOT_LOAD_BUCKET_TYPES = ["MINIO", "S3", "NEBIUS", "FW_HOSTED"] as const;

/** Where a deployment must be placed (Fireworks' Placement: "exactly one field will be specified"); unset: the GLOBAL multi-region. */
interface Placement {
  region?: string;
  multiRegion?: string;
  regions?: string[];
}

/**
 * The serving options as stored and shown, under Fireworks' names: only those set (a false flag,
 * a zero count, an empty string or an unspecified enum is unset, as protobuf JSON leaves them out).
 */
export interface DeploymentOptions {
  precision?: string;
  placement?: Placement;
  /** PEFT add-ons (LoRA) may be loaded onto the deployment (Fireworks' multi-LoRA guide: `--enable-addons`). */
  enableAddons?: boolean;
  enableHotReloadLatestAddon?: boolean;
  /** `accounts/{a}/models/{m}`: resolved by the service to a model that exists. */
  draftModel?: string;
  /** Candidate tokens per speculative step. */
  draftTokenCount?: number;
  ngramSpeculationLength?: number;
  enableSessionAffinity?: boolean;
  autoTune?: { longPrompt?: boolean };
  disableDeploymentSizeValidation?: boolean;
  enableMtp?: boolean;
  enableHotLoad?: boolean;
  hotLoadBucketType?: string;
  hotLoadBucketUrl?: string;
  /** Tokens; unset: the model's own context window. */
  maxContextLength?: number;
}

/** The option fields, once (the request fields, the view's, the update mask's). */
export const DEPLOYMENT_OPTION_FIELDS = [
  "precision",
  "placement",
  "enableAddons",
  "enableHotReloadLatestAddon",
  "draftModel",
  "draftTokenCount",
  "ngramSpeculationLength",
  "enableSessionAffinity",
  "autoTune",
  "disableDeploymentSizeValidation",
  "enableMtp",
  "enableHotLoad",
  "hotLoadBucketType",
  "hotLoadBucketUrl",
  "maxContextLength",
] as const satisfies ReadonlyArray<keyof DeploymentOptions>;

/** A change to the options: a field given replaces it; an unset value (false, 0, "", null, an empty message) clears it; absent keeps it. */
export type DeploymentOptionsPatch = { [K in keyof DeploymentOptions]?: DeploymentOptions[K] | null };

/**
 * Whether a value is protobuf's unset: null, false, 0, "" (an `…_UNSPECIFIED` enum value, as the
 * request schema reads it), an empty list, or a message with nothing set.
 */
function isUnset(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.every(isUnset);
  if (typeof value === "object") return Object.values(value).every(isUnset);
  return false;
}

/** `value` without its unset fields (a message's, a list's unspecified entries). */
function withoutUnset<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => !isUnset(v)) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (isUnset(v) ? [] : [[k, withoutUnset(v)]]))) as T;
}

/**
 * `current` with `patch` applied, checked by Fireworks' documented rules: a placement names exactly
 * one of region, multiRegion, regions (SDK `Placement`); a draft model and n-gram speculation
 * exclude each other, and either needs draftTokenCount (docs page "Speculative Decoding").
 * Enum values and bounds are checked by the request schema.
 * @throws ApiError INVALID_ARGUMENT naming the fields.
 */
export function applyDeploymentOptions(current: DeploymentOptions, patch: DeploymentOptionsPatch): DeploymentOptions {
  const next: Record<string, unknown> = { ...current };
  for (const key of DEPLOYMENT_OPTION_FIELDS) {
    const value = patch[key];
    if (value === undefined) continue;
    if (isUnset(value)) delete next[key];
    else next[key] = withoutUnset(value);
  }
  const options = next as DeploymentOptions;
  const placed = Object.keys(options.placement ?? {});
  if (placed.length > 1) throw invalidArgument(`placement names exactly one of region, multiRegion and regions, not ${placed.join(" and ")}`);
  if (options.draftModel !== undefined && options.ngramSpeculationLength !== undefined)
    throw invalidArgument("draftModel and ngramSpeculationLength cannot be used together: speculate with a draft model or with n-grams");
  if ((options.draftModel !== undefined || options.ngramSpeculationLength !== undefined) && options.draftTokenCount === undefined)
    throw invalidArgument(`draftTokenCount is required with ${options.draftModel !== undefined ? "draftModel" : "ngramSpeculationLength"} (typically 4)`);
  return options;
}
