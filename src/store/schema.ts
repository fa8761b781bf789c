import type { Generated } from "kysely";
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
  /**
   * When the human last signed in (browser or firectl); null before the first sign-in (service
   * accounts: always). Optional: rows are inserted without it.
   */
  last_sign_in_time?: number | null;
  /**
   * When an admin last revoked the user's sessions (epoch ms, 0: never, `:revokeSessions`): ID
   * tokens issued then or before, and firectl sign-ins made then or before, are refused. Optional:
   * rows are inserted without it.
   */
  sessions_revoke_time?: number;
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

/** A signed leak report Hearth acted on or is acting on (migration 33), so that the same report sent again is not acted on twice. */
interface LeakReportRow {
  /** Hex SHA-256 of the report's body, byte for byte (what GitHub's signature covers). */
  digest: string;
  /** When it was claimed for acting on, epoch ms (with the claim's end, the claim's identity). */
  receive_time: number;
  /** Until when a request acting on it holds it (epoch ms); null once every finding was acted on. */
  claim_expire_time: number | null;
}

/** A deleted key that had keys made through it (migration 29): what a leak report of its secret needs. */
export interface ApiKeyTombstoneRow {
  /** The deleted key's digest (hex SHA-256 of its secret), as `api_keys.digest` held it. */
  digest: string;
  id: string;
  account_id: string;
  user_id: string;
  /** The key it was made through ("" for none), as `api_keys.parent_key_id` held it. */
  parent_key_id: string;
  /** Epoch ms. */
  delete_time: number;
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
  /** `ENABLED` or `DISABLED` (a disabled key authenticates nothing until enabled). */
  state: string;
  /** Why a disabled key was disabled: `EXPOSED`, `COMPROMISED`, `UNUSED`, `OTHER`; empty while enabled. */
  disable_reason: string;
  /** Client address of the newest use, written behind with `last_used`; empty before the first. */
  last_used_ip: string;
  /** User-Agent of the newest use, written behind with `last_used`; empty before the first. */
  last_used_user_agent: string;
  /** The id of the key that replaced this one by rotation; empty until it is rotated. */
  successor_key_id: string;
  /**
   * The key whose counters this key's own rpm, tpm and monthly spend share (`limitsKeyOf`): the first
   * key of its rotation chain, or the limited key it was made through (and that key's own
   * `limits_key_id`, if it has one). Empty: the key counts under its own id.
   */
  limits_key_id: string;
  /** The API key this key was made through (its successor keeps it); empty when made by a console session, an ID token or an operator. */
  parent_key_id: string;
  /** The key's restrictions (null: none). Scopes, models and networks as JSON arrays of strings. */
  scopes: string | null;
  allowed_models: string | null;
  allowed_cidrs: string | null;
  /** Requests, tokens per minute of this key. */
  rpm: number | null;
  tpm: number | null;
  /** Spend per calendar month of this key, nano-dollars. */
  monthly_spend_nanos: number | null;
}

/** An account's key policy (`accounts/{id}/keyPolicy`); lifetimes in milliseconds, null when unset. */
export interface KeyPolicyRow {
  account_id: string;
  max_key_lifetime: number | null;
  default_key_lifetime: number | null;
  require_expiry_for_human_keys: number;
  update_time: number;
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

/**
 * An audit entry's place in its account's hash chain (migration 20) and the hashed fields added
 * with it, written by the audit writer (store/audit-chain.ts); 0 / "" on a row written outside it.
 */
interface AuditChainColumns {
  /** 1-based position in the account's chain. */
  seq: Generated<number>;
  /** Lower-case hex SHA-256 (domain/audit-chain.ts). */
  prev_hash: Generated<string>;
  hash: Generated<string>;
  principal_type: Generated<string>;
  authentication: Generated<string>;
  request_id: Generated<string>;
}

/** The end of one account's chain, locked by each writer (serialises appends per account). */
interface AuditChainHeadRow {
  account_id: string;
  seq: number;
  hash: string;
  /** Position and time (ms since the epoch) of the last checkpoint. */
  checkpoint_seq: number;
  checkpoint_time: number;
}

/** A checkpoint of an account's chain at `seq`; `signature` is "" until a process signs it. */
export interface AuditCheckpointRow {
  account_id: string;
  seq: number;
  last_id: string;
  last_hash: string;
  time: number;
  key_id: string;
  signature: string;
}

/** An Ed25519 audit signing key: public key as base64url (JWK `x`), private key sealed under the server key. */
export interface AuditSigningKeyRow {
  id: string;
  public_key: string;
  private_key: string;
  create_time: number;
  retire_time: number | null;
}

/** A live stream of an account's audit chain (migration 20). */
export interface AuditSinkRow {
  account_id: string;
  id: string;
  display_name: string;
  /** `WEBHOOK` or `SPLUNK_HEC`. */
  type: string;
  /** WEBHOOK: the id of the account's webhook it posts to ("" otherwise). */
  webhook_id: string;
  /** SPLUNK_HEC: the HTTP Event Collector URL ("" otherwise). */
  url: string;
  /** SPLUNK_HEC: the HEC token, sealed with the server key ("" otherwise). */
  token: string;
  /** Position of the last entry the receiver acknowledged (the durable cursor). */
  delivered_seq: number;
  /** Failed attempts since the last delivered batch. */
  attempt_count: number;
  /** When the next batch may be sent (ms since the epoch). */
  next_attempt_time: number;
  last_error: string;
  lease_owner: string;
  lease_expire_time: number;
  create_time: number;
  update_time: number;
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

/** A firectl sign-in ended by its user (`firectl signout`): its refresh tokens are not renewed. */
export interface CliSignOutRow {
  account_id: string;
  user_id: string;
  /** The browser sign-in the refresh tokens descend from (epoch ms), as sealed in them. */
  sign_in_time: number;
  sign_out_time: number;
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

/** An account's webhook endpoint (`accounts/{account_id}/webhooks/{id}`). */
export interface WebhookRow {
  account_id: string;
  id: string;
  display_name: string;
  url: string;
  /** JSON array of event types (domain/webhook-event-types.ts), sorted. */
  events: string;
  /** `ENABLED` or `DISABLED` (a disabled webhook is sent nothing). */
  state: string;
  /** The Standard Webhooks signing secret (`whsec_…`), sealed with the server key (domain/secret-box.ts). */
  secret: string;
  /** The secret the last rotation replaced, sealed like `secret` under its own context; "" when none. */
  previous_secret: string;
  /** Until when (epoch ms) deliveries are also signed with `previous_secret`; null when there is none. */
  previous_secret_expire_time: number | null;
  create_time: number;
  update_time: number;
}

/** The outbox: one event, written in the transaction of the change it reports. */
export interface WebhookEventRow {
  /** The Standard Webhooks message id (`webhook-id` header), `msg_…`. */
  id: string;
  account_id: string;
  type: string;
  /** The JSON body sent: `{"type", "timestamp", "data"}`. */
  data: string;
  create_time: number;
}

/** One event to one webhook, and where its delivery stands. */
export interface WebhookDeliveryRow {
  id: string;
  account_id: string;
  webhook_id: string;
  event_id: string;
  /** `PENDING`, `SUCCEEDED` or `FAILED` (retries ran out). */
  state: string;
  /** Every attempt made, redeliveries included (the attempts in its log). */
  attempt_count: number;
  /** The attempts since the delivery was queued or last redelivered by hand: what its backoff doubles on. */
  backoff_attempt_count: number;
  /** When the next attempt is due; null once the delivery is no longer pending. */
  next_attempt_time: number | null;
  /** Retries stop after this time (a day after the delivery began or was redelivered). */
  deadline_time: number;
  /** The process holding the delivery's lease; empty when none. */
  lease_owner: string;
  /** When the lease lapses (another process may then take the delivery); 0 when none. */
  lease_expire_time: number;
  /** HTTP status of the latest attempt; 0 before any or when none came back. */
  response_code: number;
  create_time: number;
  update_time: number;
}

/** One attempt of a delivery. */
export interface WebhookAttemptRow {
  delivery_id: string;
  /** 1 for the first attempt. */
  attempt: number;
  attempt_time: number;
  /** The receiver's HTTP status; 0 when no response came back. */
  response_code: number;
  /** Why the attempt failed (network error, refused address, timeout); empty otherwise. */
  error: string;
  duration_ms: number;
}

/** A notice sent at most once (or once per interval): `subject` is what it is about, `notice` which one. */
interface WebhookNoticeRow {
  subject: string;
  notice: string;
  sent_time: number;
}

interface UsedLoginStateRow {
  /** SHA-256 of the sign-in's OIDC `state`. */
  digest: string;
  /** When the sign-in's cookie expires; the row is of no use after that. */
  expire_time: number;
}

/** A value a serving process records for operator commands run elsewhere (`public_url`: the URL it serves on). */
interface ServerSettingRow {
  name: string;
  value: string;
  /** Epoch milliseconds. */
  update_time: number;
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
  accounts: AccountRow & {
    /** 1 when reads of users, keys and audit logs are audited (migration 20). */
    audit_data_access: Generated<number>;
    /** The account's users with `service_account = 1`, kept by triggers on users (migration 26). */
    service_account_count: Generated<number>;
  };
  users: UserRow & Folded<"display_name">;
  api_keys: ApiKeyRow & Folded<"display_name">;
  api_key_tombstones: ApiKeyTombstoneRow;
  leak_reports: LeakReportRow;
  audit_logs: AuditLogRow & Folded<"message" | "status_message"> & AuditChainColumns;
  audit_chain_heads: AuditChainHeadRow;
  audit_checkpoints: AuditCheckpointRow;
  audit_signing_keys: AuditSigningKeyRow;
  audit_sinks: AuditSinkRow;
  quotas: QuotaRow;
  key_policies: KeyPolicyRow;
  identity_providers: IdentityProviderRow & Folded<"display_name">;
  permission_presets: PermissionPresetRow & Folded<"display_name">;
  sessions: SessionRow;
  signin_links: SigninLinkRow;
  cli_grants: CliGrantRow;
  cli_sign_outs: CliSignOutRow;
  used_login_states: UsedLoginStateRow;
  identity_bindings: IdentityBindingRow;
  schema_migrations: SchemaMigrationRow;
  server_settings: ServerSettingRow;
  webhooks: WebhookRow & Folded<"display_name">;
  webhook_events: WebhookEventRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_attempts: WebhookAttemptRow;
  webhook_notices: WebhookNoticeRow;
  models: ModelRow & Folded<"display_name">;
  deployments: DeploymentRow & Folded<"display_name">;
  datasets: DatasetRow & Folded<"display_name">;
  dataset_chunks: DatasetChunkRow;
  usage_daily: UsageDailyRow;
}
