import type { DatasetChunkRow, DatasetRow, DeploymentRow, ModelRow, UsageDailyRow } from "./platform-rows.ts";

export type { DatasetChunkRow, DatasetRow, DeploymentRow, ModelRow, UsageDailyRow } from "./platform-rows.ts";

/** Row types of every table: the store's half of the one store interface. Times are epoch milliseconds. */
export interface AccountRow {
  id: string;
  display_name: string;
  email: string;
  state: string;
  create_time: number;
  update_time: number;
}

export interface UserRow {
  account_id: string;
  id: string;
  display_name: string;
  email: string;
  role: string;
  service_account: number;
  state: string;
  create_time: number;
  update_time: number;
}

export interface ApiKeyRow {
  id: string;
  account_id: string;
  user_id: string;
  display_name: string;
  digest: string;
  prefix: string;
  create_time: number;
  expire_time: number | null;
  last_used: number | null;
  annotations: string;
}

export interface AuditLogRow {
  id: string;
  account_id: string;
  timestamp: number;
  principal: string;
  method: string;
  resource: string;
  message: string;
  status_code: number;
  status_message: string;
  payload: string;
  is_admin_action: number;
  user_agent: string;
  client_ip: string;
  api_key_id: string;
}

export interface QuotaRow {
  account_id: string;
  id: string;
  value: number;
  max_value: number;
  update_time: number;
}

export interface SchemaMigrationRow {
  version: number;
  name: string;
  applied_time: number;
}

export interface Schema {
  accounts: AccountRow;
  users: UserRow;
  api_keys: ApiKeyRow;
  audit_logs: AuditLogRow;
  quotas: QuotaRow;
  schema_migrations: SchemaMigrationRow;
  models: ModelRow;
  deployments: DeploymentRow;
  datasets: DatasetRow;
  dataset_chunks: DatasetChunkRow;
  usage_daily: UsageDailyRow;
}
