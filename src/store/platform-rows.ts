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
  created_by: string;
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
  created_by: string;
  create_time: number;
  update_time: number;
}

export interface DatasetRow {
  account_id: string;
  id: string;
  display_name: string;
  state: string;
  example_count: number;
  size_bytes: number;
  /** The upload whose chunks are the dataset's content; empty until one completes. */
  upload_id: string;
  created_by: string;
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
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  spend_nano: number;
}
