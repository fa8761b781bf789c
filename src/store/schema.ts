import type { DatasetChunkRow, DatasetRow, DeploymentRow, ModelRow, UsageDailyRow } from "./platform-rows.ts";

/** Row types of every table: the store's half of the one store interface. Times are epoch milliseconds. */
export interface AccountRow {
  id: string;
  display_name: string;
  email: string;
  state: string;
  /**
   * The domain of its service accounts' emails (`{user}@{account}.{sa_domain}`), recorded at
   * creation from HEARTH_SA_DOMAIN and kept when that setting changes.
   */
  sa_domain: string;
  create_time: number;
  update_time: number;
}

export interface UserRow {
  account_id: string;
  id: string;
  /** AIP-148 uid: a UUID assigned at creation (by `insertUser`), never reused, never changed. */
  uid: string;
  display_name: string;
  email: string;
  role: string;
  /** The id of the permission preset a user with role "custom" holds; empty for the built-in roles. */
  permission_preset: string;
  service_account: number;
  state: string;
  create_time: number;
  update_time: number;
}

/** A permission preset (`accounts/{account_id}/permissionPresets/{id}`): the actions of a custom role. */
export interface PermissionPresetRow {
  account_id: string;
  id: string;
  display_name: string;
  /** JSON array of action names, sorted. */
  actions: string;
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
  /** The uid of the principal who acted; empty for the operator and unauthenticated attempts. */
  principal_uid: string;
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

export interface IdentityProviderRow {
  account_id: string;
  id: string;
  display_name: string;
  issuer_url: string;
  /** issuerKey(issuer_url): what makes (issuer, client id) unique across accounts whatever the spelling. */
  issuer_key: string;
  client_id: string;
  /** Sealed with the server key (see domain/secret-box.ts); null when the client has no secret. */
  client_secret: string | null;
  /** JSON array of domains. */
  tenant_domains: string;
  enable_jit: number;
  jit_default_role: string;
  enforce_sso: number;
  /** 1: a token without `email_verified` counts as verified (providers that never send the claim). */
  trust_email_without_verified_claim: number;
  /** `READY`, or `DISABLED` when another account holds its (issuer, client id) (operator release, upgrade). */
  state: string;
  create_time: number;
  update_time: number;
}

/** A human bound to a provider's `(iss, sub)` at the first allowed sign-in through it. */
export interface IdentityBindingRow {
  account_id: string;
  user_id: string;
  identity_provider_id: string;
  issuer: string;
  subject: string;
  create_time: number;
}

export interface SessionRow {
  /** SHA-256 of the session id in the cookie. */
  digest: string;
  account_id: string;
  user_id: string;
  csrf_token: string;
  /** How the session began: `oidc:<identity provider id>` or `link`. */
  via: string;
  create_time: number;
  last_seen: number;
  /** Absolute end, whatever the activity. */
  expire_time: number;
}

export interface SigninLinkRow {
  /** SHA-256 of the link's token. */
  digest: string;
  account_id: string;
  user_id: string;
  create_time: number;
  expire_time: number;
  used_time: number | null;
}

export interface CliGrantRow {
  /** SHA-256 of the one-time code. */
  digest: string;
  account_id: string;
  user_id: string;
  identity_provider_id: string;
  /** PKCE S256 challenge: the code is redeemed only with its verifier. */
  code_challenge: string;
  /** The identity provider's tokens, sealed under the server key. */
  tokens: string;
  expire_time: number;
}

interface UsedLoginStateRow {
  /** SHA-256 of the sign-in's OIDC `state`. */
  digest: string;
  /** When the sign-in's cookie expires; the row is of no use after that. */
  expire_time: number;
}

interface SchemaMigrationRow {
  version: number;
  name: string;
  applied_time: number;
}

/** The database kinds the store runs on: embedded SQLite, or a PostgreSQL server. */
export type Dialect = "sqlite" | "postgres";

/** `<column>_folded`: foldCase() of a searchable text column, written beside it by the store (store/folded-columns.ts). */
type Folded<C extends string> = { [K in C as `${K}_folded`]: string };

export interface Schema {
  accounts: AccountRow;
  users: UserRow & Folded<"display_name">;
  api_keys: ApiKeyRow & Folded<"display_name">;
  audit_logs: AuditLogRow & Folded<"message" | "status_message">;
  quotas: QuotaRow;
  identity_providers: IdentityProviderRow;
  permission_presets: PermissionPresetRow;
  sessions: SessionRow;
  signin_links: SigninLinkRow;
  cli_grants: CliGrantRow;
  used_login_states: UsedLoginStateRow;
  identity_bindings: IdentityBindingRow;
  schema_migrations: SchemaMigrationRow;
  models: ModelRow & Folded<"display_name">;
  deployments: DeploymentRow & Folded<"display_name">;
  datasets: DatasetRow & Folded<"display_name">;
  dataset_chunks: DatasetChunkRow;
  usage_daily: UsageDailyRow;
}
