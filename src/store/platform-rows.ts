import type { DatasetFormat } from "../domain/dataset-format.ts";

/** Row types of the platform tables (migration 3): models, deployments, datasets and the usage meter. */
export interface ModelRow {
  account_id: string;
  id: string;
  display_name: string;
  description: string;
  backend: string;
  upstream_model: string;
  /** USD per million tokens. */
  input_price: number;
  output_price: number;
  /** The creator's email, as shown (`createdBy`). */
  created_by: string;
  /** The creator's uid: what ownership compares (see `isCreator`); empty when no principal owns it. */
  creator_uid: string;
  create_time: number;
  update_time: number;
}

export interface DeploymentRow {
  account_id: string;
  id: string;
  display_name: string;
  /** Full model name, e.g. `accounts/a/models/m` or a public model. */
  model: string;
  backend: string;
  state: string;
  status_message: string;
  /** The creator's email, as shown (`createdBy`). */
  created_by: string;
  /** The creator's uid: what ownership compares (see `isCreator`); empty when no principal owns it. */
  creator_uid: string;
  create_time: number;
  update_time: number;
  /** Desired state (Fireworks' Deployment fields): Hearth runs no GPU, so nothing scales but these numbers. */
  min_replica_count: number;
  max_replica_count: number;
  /** The replica count asked for (`:scale`), within [min_replica_count, max_replica_count]. */
  replica_count: number;
  /** One of `ACCELERATOR_TYPES`, or "" (unspecified). */
  accelerator_type: string;
  /** Accelerators per replica; 0: unspecified. */
  accelerator_count: number;
  deployment_shape: string;
  description: string;
  /** JSON object of string → string. */
  annotations: string;
  /** JSON of the AutoscalingPolicy as set (domain/autoscaling-policy.ts); `{}`: every field at its default. */
  autoscaling_policy: string;
  /** JSON of the serving options as set (domain/deployment-options.ts), Fireworks' names; `{}`: none. */
  serving_options: string;
  /** Epoch ms of the soft delete (state DELETING or DELETED); null while live. */
  delete_time: number | null;
}

export interface DatasetRow {
  account_id: string;
  id: string;
  display_name: string;
  state: string;
  /** What each line holds: `CHAT` or `COMPLETION` (domain/dataset-format.ts). */
  format: DatasetFormat;
  example_count: number;
  size_bytes: number;
  /** The upload whose chunks are the dataset's content; empty until one completes. */
  upload_id: string;
  /** The creator's email, as shown (`createdBy`). */
  created_by: string;
  /** The creator's uid: what ownership compares (see `isCreator`); empty when no principal owns it. */
  creator_uid: string;
  create_time: number;
  update_time: number;
}

/** A piece of a dataset's JSONL (whole lines), so every Hearth process on the store can read it. */
export interface DatasetChunkRow {
  account_id: string;
  dataset_id: string;
  upload_id: string;
  seq: number;
  data: string;
}

/** One day of metered inference for one (account, model, principal, key); upserted per request. */
export interface UsageDailyRow {
  account_id: string;
  day: string;
  model: string;
  principal: string;
  api_key_id: string;
  /** The count the key's own limits share (`limitsKeyOf` when metered: the key's own id, or the key it shares counters with); empty without a key. */
  limits_key_id: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  spend_nano: number;
}
