import { sql, type Kysely } from "kysely";
import type { Dialect, Schema } from "./schema.ts";
import { fillFolded } from "./folded-columns.ts";
import { fillAuditChain } from "./audit-chain.ts";

/**
 * Versioned migrations, applied in order inside one transaction each and recorded in
 * `schema_migrations`. Never edit a released migration: add the next one.
 */
interface Migration {
  version: number;
  name: string;
  /**
   * SQL statements; `{id}` becomes a text type that sorts bytewise on every dialect, `{unlogged}`
   * marks a PostgreSQL table whose contents need not survive a crash, `{uuid}` is a new random
   * (version 4) UUID as text, drawn again for every row.
   */
  statements: string[];
  /** Runs after the statements, in the same transaction: what SQL cannot do alike on both dialects. */
  fill?: (db: Kysely<Schema>, dialect: Dialect) => Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "accounts users api keys audit quotas",
    statements: [
      `create table accounts (
        id {id} primary key,
        display_name text not null,
        email text not null,
        state text not null,
        create_time bigint not null,
        update_time bigint not null)`,
      `create table users (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name text not null,
        email {id} not null,
        role text not null,
        service_account integer not null,
        state text not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create unique index users_email on users (account_id, email)`,
      `create index users_service_account on users (account_id, service_account, id)`,
      `create index users_create_time on users (account_id, create_time, id)`,
      `create table api_keys (
        id {id} primary key,
        account_id {id} not null,
        user_id {id} not null,
        display_name text not null,
        digest text not null,
        prefix text not null,
        create_time bigint not null,
        expire_time bigint,
        last_used bigint,
        annotations text not null,
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
      `create unique index api_keys_digest on api_keys (digest)`,
      `create index api_keys_owner on api_keys (account_id, user_id, id)`,
      `create table audit_logs (
        id {id} primary key,
        account_id {id} not null,
        timestamp bigint not null,
        principal {id} not null,
        method text not null,
        resource {id} not null,
        message text not null,
        status_code integer not null,
        status_message text not null,
        payload text not null,
        is_admin_action integer not null,
        user_agent text not null,
        client_ip text not null,
        api_key_id text not null)`,
      `create index audit_logs_time on audit_logs (account_id, timestamp, id)`,
      `create table quotas (
        account_id {id} not null references accounts(id),
        id {id} not null,
        value bigint not null,
        max_value bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
    ],
  },
  {
    version: 2,
    name: "identity providers sessions sign-in links",
    statements: [
      // client_secret holds only a sealed value (AES-256-GCM under the server key), never plaintext.
      `create table identity_providers (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name text not null,
        issuer_url {id} not null,
        client_id text not null,
        client_secret text,
        tenant_domains text not null,
        enable_jit integer not null,
        jit_default_role text not null,
        enforce_sso integer not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create index identity_providers_issuer on identity_providers (issuer_url)`,
      // Session ids and link tokens are kept only as SHA-256 digests.
      `create table sessions (
        digest {id} primary key,
        account_id {id} not null,
        user_id {id} not null,
        csrf_token text not null,
        via text not null,
        create_time bigint not null,
        last_seen bigint not null,
        expire_time bigint not null,
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
      `create index sessions_owner on sessions (account_id, user_id)`,
      `create table signin_links (
        digest {id} primary key,
        account_id {id} not null,
        user_id {id} not null,
        create_time bigint not null,
        expire_time bigint not null,
        used_time bigint,
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
      `create index signin_links_owner on signin_links (account_id, user_id)`,
    ],
  },
  {
    version: 3,
    name: "models deployments datasets usage meter",
    statements: [
      `create table models (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name {id} not null,
        description text not null,
        backend {id} not null,
        upstream_model text not null,
        input_price double precision not null,
        output_price double precision not null,
        created_by {id} not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create index models_create_time on models (account_id, create_time, id)`,
      `create table deployments (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name {id} not null,
        model {id} not null,
        backend {id} not null,
        state {id} not null,
        status_message text not null,
        created_by {id} not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create index deployments_create_time on deployments (account_id, create_time, id)`,
      `create table datasets (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name {id} not null,
        state {id} not null,
        example_count bigint not null,
        size_bytes bigint not null,
        upload_id {id} not null,
        created_by {id} not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create index datasets_create_time on datasets (account_id, create_time, id)`,
      `create table dataset_chunks (
        account_id {id} not null,
        dataset_id {id} not null,
        upload_id {id} not null,
        seq integer not null,
        data text not null,
        primary key (account_id, dataset_id, upload_id, seq))`,
      `create table usage_daily (
        account_id {id} not null,
        day {id} not null,
        model {id} not null,
        principal {id} not null,
        api_key_id {id} not null,
        requests bigint not null,
        prompt_tokens bigint not null,
        completion_tokens bigint not null,
        spend_nano bigint not null,
        primary key (account_id, day, model, principal, api_key_id))`,
    ],
  },
  {
    version: 4,
    name: "indexes for principal-scoped audit reads and key listings",
    statements: [
      `create index audit_logs_principal on audit_logs (account_id, principal, timestamp, id)`,
      `create index audit_logs_retention on audit_logs (timestamp)`,
      `create index users_role on users (account_id, role, id)`,
      `create index api_keys_owner_time on api_keys (account_id, user_id, create_time, id)`,
    ],
  },
  {
    version: 5,
    name: "shared rate-limit windows",
    statements: [
      // One row per key and fixed minute; counters need no crash safety, so PostgreSQL keeps them out of the WAL.
      `create {unlogged} table rate_windows (
        key {id} not null,
        start bigint not null,
        count integer not null,
        primary key (key, start))`,
    ],
  },
  {
    version: 6,
    name: "firectl sign-in grants",
    statements: [
      // A one-time code handed to firectl's loopback listener: stored as a digest, with the PKCE
      // challenge it must be redeemed with and the identity provider's tokens sealed under the server key.
      `create table cli_grants (
        digest {id} primary key,
        account_id {id} not null,
        user_id {id} not null,
        identity_provider_id {id} not null,
        code_challenge text not null,
        tokens text not null,
        expire_time bigint not null,
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
      `create index cli_grants_expiry on cli_grants (expire_time)`,
    ],
  },
  {
    version: 7,
    name: "identity provider ownership and subject bindings",
    statements: [
      `alter table identity_providers add column trust_email_without_verified_claim integer not null default 0`,
      `alter table identity_providers add column state text not null default 'READY'`,
      // issuerKey() of the issuer (src/domain/issuer-identifier.ts); rows stored before were written
      // as the admin typed them, so this is its nearest SQL form.
      `alter table identity_providers add column issuer_key {id} not null default ''`,
      `update identity_providers set issuer_key = lower(rtrim(issuer_url, '/'))`,
      // An (issuer, client id) pair names one provider of one account. Where several accounts
      // registered the same pair, the oldest registration keeps it and the later ones are disabled
      // (listed at start-up) until the operator settles ownership.
      `update identity_providers set state = 'DISABLED' where exists (
        select 1 from identity_providers o
        where o.issuer_key = identity_providers.issuer_key and o.client_id = identity_providers.client_id
          and (o.create_time < identity_providers.create_time
            or (o.create_time = identity_providers.create_time and (o.account_id < identity_providers.account_id
              or (o.account_id = identity_providers.account_id and o.id < identity_providers.id)))))`,
      `create unique index identity_providers_client on identity_providers (issuer_key, client_id) where state = 'READY'`,
      // A human's (issuer, subject) at a provider, recorded at the first allowed sign-in: a later
      // token with the same email but another subject is refused.
      `create table identity_bindings (
        account_id {id} not null,
        user_id {id} not null,
        identity_provider_id {id} not null,
        issuer {id} not null,
        subject {id} not null,
        create_time bigint not null,
        primary key (account_id, user_id, identity_provider_id),
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
      `create unique index identity_bindings_subject on identity_bindings (account_id, identity_provider_id, subject)`,
    ],
  },
  {
    version: 8,
    name: "used web sign-in states",
    statements: [
      // The `state` of every web sign-in whose callback was taken (as a digest), until its login
      // cookie expires: a client that keeps the cookie cannot replay it against the token endpoint.
      `create table used_login_states (
        digest {id} primary key,
        expire_time bigint not null)`,
      `create index used_login_states_expiry on used_login_states (expire_time)`,
    ],
  },
  {
    version: 9,
    name: "principal uids and resource creators",
    statements: [
      // Every principal's AIP-148 uid: system-assigned, never reused. A principal deleted and
      // re-created with the same email or id is a new principal with a new uid.
      `alter table users add column uid {id} not null default ''`,
      `update users set uid = {uuid}`,
      `create unique index users_uid on users (uid)`,
      // Who acted, by uid; empty for the operator and for unauthenticated attempts.
      `alter table audit_logs add column principal_uid {id} not null default ''`,
      // The creator of a model, deployment or dataset, by uid (ownership compares uids). One stored
      // before has only its creator's email: it gets the uid of the account's one live principal with
      // that email (in any case), and none when there is no such principal or several.
      ...["models", "deployments", "datasets"].flatMap((table) => [
        `alter table ${table} add column creator_uid {id} not null default ''`,
        `update ${table} set creator_uid = case
          when (select count(*) from users u where u.account_id = ${table}.account_id and lower(u.email) = lower(${table}.created_by)) = 1
          then (select u.uid from users u where u.account_id = ${table}.account_id and lower(u.email) = lower(${table}.created_by))
          else '' end`,
      ]),
    ],
  },
  {
    version: 10,
    name: "spend reservations",
    statements: [
      // An admitted inference call's upper-bound cost, held against monthly-spend-usd until the call
      // is metered (or, when its process died, until expire_time). Like rate_windows, kept out of the WAL.
      `create {unlogged} table spend_reservations (
        id {id} primary key,
        account_id {id} not null,
        amount_nano bigint not null,
        expire_time bigint not null)`,
      `create index spend_reservations_account on spend_reservations (account_id, expire_time)`,
    ],
  },
  {
    version: 11,
    name: "service-account domain per account",
    statements: [
      // The domain of the account's service-account emails, kept when HEARTH_SA_DOMAIN changes. An
      // account from before has none yet: start-up gives it the configured one (fillServiceAccountDomains).
      `alter table accounts add column sa_domain text not null default ''`,
    ],
  },
  {
    version: 12,
    name: "case-folded text for filters",
    statements: [
      // foldCase() of each searchable text column (domain/case-folding.ts), written by Hearth so a
      // filter's ':' matches alike in every script on both dialects; filled below for existing rows.
      `alter table users add column display_name_folded {id} not null default ''`,
      `alter table api_keys add column display_name_folded {id} not null default ''`,
      `alter table models add column display_name_folded {id} not null default ''`,
      `alter table deployments add column display_name_folded {id} not null default ''`,
      `alter table datasets add column display_name_folded {id} not null default ''`,
      `alter table audit_logs add column message_folded {id} not null default ''`,
      `alter table audit_logs add column status_message_folded {id} not null default ''`,
    ],
    fill: async (db) => {
      for (const table of ["users", "models", "deployments", "datasets"] as const) await fillFolded(db, table, ["account_id", "id"], ["display_name"]);
      await fillFolded(db, "api_keys", ["id"], ["display_name"]);
      await fillFolded(db, "audit_logs", ["id"], ["message", "status_message"]);
    },
  },
  {
    version: 13,
    name: "dataset format",
    statements: [
      // Fireworks' Dataset.format: what each line of the dataset holds; datasets stored before were chat data.
      `alter table datasets add column format {id} not null default 'CHAT'`,
    ],
  },
  {
    version: 14,
    name: "deployment desired state and soft delete",
    statements: [
      // Fireworks' Deployment fields a gateway keeps as desired state (no GPU runs here); a deployment
      // stored before kept serving, so it reads as one replica. delete_time: set while soft-deleted.
      `alter table deployments add column min_replica_count integer not null default 0`,
      `alter table deployments add column max_replica_count integer not null default 1`,
      `alter table deployments add column replica_count integer not null default 1`,
      `alter table deployments add column accelerator_type {id} not null default ''`,
      `alter table deployments add column accelerator_count integer not null default 0`,
      `alter table deployments add column deployment_shape text not null default ''`,
      `alter table deployments add column description text not null default ''`,
      `alter table deployments add column annotations text not null default '{}'`,
      `alter table deployments add column delete_time bigint`,
    ],
  },
  {
    version: 16,
    name: "permission presets",
    statements: [
      // A custom role's actions: a named set of action names of the public vocabulary, per account.
      `create table permission_presets (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name text not null,
        actions text not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      // The preset a user with role "custom" holds; empty for the built-in roles.
      `alter table users add column permission_preset {id} not null default ''`,
      `create index users_permission_preset on users (account_id, permission_preset)`,
    ],
  },
  {
    version: 17,
    name: "api key restrictions",
    statements: [
      // A key's own restrictions; null: unrestricted. Lists as JSON arrays of strings (scopes are
      // action names, models names or patterns, networks CIDRs); spend in nano-dollars per month.
      `alter table api_keys add column scopes text`,
      `alter table api_keys add column allowed_models text`,
      `alter table api_keys add column allowed_cidrs text`,
      `alter table api_keys add column rpm bigint`,
      `alter table api_keys add column tpm bigint`,
      `alter table api_keys add column monthly_spend_nanos bigint`,
    ],
  },
  {
    version: 18,
    name: "api key lifecycle and key policy",
    statements: [
      // GCP's key state and disable reason; the address and user agent of the key's newest use,
      // written behind with last_used. Keys stored before were enabled.
      `alter table api_keys add column state {id} not null default 'ENABLED'`,
      `alter table api_keys add column disable_reason {id} not null default ''`,
      `alter table api_keys add column last_used_ip text not null default ''`,
      `alter table api_keys add column last_used_user_agent text not null default ''`,
      // The key a rotation made to replace this one ('' until rotated): a key is rotated once.
      `alter table api_keys add column successor_key_id {id} not null default ''`,
      // An account's key policy (admin-set); no row: no limits. Lifetimes in milliseconds, null: none.
      `create table key_policies (
        account_id {id} primary key references accounts(id),
        max_key_lifetime bigint,
        default_key_lifetime bigint,
        require_expiry_for_human_keys integer not null default 0,
        update_time bigint not null)`,
    ],
  },
  {
    version: 19,
    name: "webhooks outbox and deliveries",
    statements: [
      // An account's webhook endpoint (accounts/{a}/webhooks/{w}); events: JSON array of event types;
      // secret: the Standard Webhooks signing secret, sealed with the server key.
      `create table webhooks (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name text not null,
        url text not null,
        events text not null,
        state {id} not null,
        secret text not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      // The outbox: one row per event, written in the transaction of the change it reports. The id is
      // the Standard Webhooks message id (webhook-id); data: the JSON body sent.
      `create table webhook_events (
        id {id} primary key,
        account_id {id} not null,
        type {id} not null,
        data text not null,
        create_time bigint not null)`,
      // Events (and their deliveries) are pruned by age.
      `create index webhook_events_time on webhook_events (create_time)`,
      // One event to one webhook: PENDING until delivered (SUCCEEDED) or given up on (FAILED). A process
      // claims a due row by setting lease_owner and lease_expire_time; another may take it once the lease lapsed.
      `create table webhook_deliveries (
        id {id} primary key,
        account_id {id} not null,
        webhook_id {id} not null,
        event_id {id} not null references webhook_events(id) on delete cascade,
        state {id} not null,
        attempt_count integer not null,
        next_attempt_time bigint,
        deadline_time bigint not null,
        lease_owner text not null,
        lease_expire_time bigint not null,
        response_code integer not null,
        create_time bigint not null,
        update_time bigint not null,
        foreign key (account_id, webhook_id) references webhooks(account_id, id) on delete cascade)`,
      `create index webhook_deliveries_due on webhook_deliveries (state, next_attempt_time)`,
      `create index webhook_deliveries_webhook on webhook_deliveries (account_id, webhook_id, create_time, id)`,
      // Each attempt of a delivery: the receiver's HTTP status (0: no response) and the error, if any.
      `create table webhook_attempts (
        delivery_id {id} not null references webhook_deliveries(id) on delete cascade,
        attempt integer not null,
        attempt_time bigint not null,
        response_code integer not null,
        error text not null,
        duration_ms integer not null,
        primary key (delivery_id, attempt))`,
      // Notices sent once (api_key.expiring at 7 and 1 days, api_key.expired, quota.threshold):
      // subject: what the notice is about; notice: which one; sent_time: when it was last sent.
      `create table webhook_notices (
        subject {id} not null,
        notice {id} not null,
        sent_time bigint not null,
        primary key (subject, notice))`,
      `create index api_keys_expire_time on api_keys (expire_time)`,
    ],
  },
  {
    version: 20,
    name: "audit hash chain checkpoints signing keys",
    statements: [
      // Each entry's place in its account's hash chain (docs/audit-log.md) and the hashed fields
      // added with it; entries stored before are chained by the fill below, in (timestamp, id) order.
      `alter table audit_logs add column seq bigint not null default 0`,
      `alter table audit_logs add column prev_hash text not null default ''`,
      `alter table audit_logs add column hash text not null default ''`,
      `alter table audit_logs add column principal_type text not null default ''`,
      `alter table audit_logs add column authentication text not null default ''`,
      `alter table audit_logs add column request_id text not null default ''`,
      `update audit_logs set principal_type = case
        when principal = 'operator' and principal_uid = '' then 'OPERATOR'
        when principal_uid = '' then 'UNAUTHENTICATED'
        when exists (select 1 from users u where u.uid = audit_logs.principal_uid and u.service_account = 1) then 'SERVICE_ACCOUNT'
        else 'USER' end`,
      `update audit_logs set authentication = 'apiKey:' || api_key_id where api_key_id <> ''`,
      `create index audit_logs_seq on audit_logs (account_id, seq, id)`,
      // The end of each account's chain: every writer locks it, so appends are serial per account.
      `create table audit_chain_heads (
        account_id {id} primary key,
        seq bigint not null,
        hash text not null,
        checkpoint_seq bigint not null,
        checkpoint_time bigint not null)`,
      // {account, lastId, lastHash, count = seq, time}, signed (Ed25519) by a server process soon after.
      `create table audit_checkpoints (
        account_id {id} not null,
        seq bigint not null,
        last_id text not null,
        last_hash text not null,
        time bigint not null,
        key_id text not null,
        signature text not null,
        primary key (account_id, seq))`,
      `create index audit_checkpoints_unsigned on audit_checkpoints (signature, time)`,
      // Ed25519 keys: public as base64url, private sealed with the server key; retired keys stay published.
      `create table audit_signing_keys (
        id {id} primary key,
        public_key text not null,
        private_key text not null,
        create_time bigint not null,
        retire_time bigint)`,
      // Data-access entries (reads of users, API keys and audit logs): off until an admin turns them on.
      `alter table accounts add column audit_data_access integer not null default 0`,
      // Live streams of the chain (accounts/{a}/auditSinks/{s}): WEBHOOK (an account webhook, event
      // audit.entry) or SPLUNK_HEC (url, token sealed with the server key). delivered_seq: the durable
      // cursor, the position of the last entry the receiver acknowledged; a process delivers a sink
      // while it holds its lease.
      `create table audit_sinks (
        account_id {id} not null references accounts(id),
        id {id} not null,
        display_name text not null,
        type {id} not null,
        webhook_id {id} not null,
        url text not null,
        token text not null,
        delivered_seq bigint not null,
        attempt_count integer not null,
        next_attempt_time bigint not null,
        last_error text not null,
        lease_owner text not null,
        lease_expire_time bigint not null,
        create_time bigint not null,
        update_time bigint not null,
        primary key (account_id, id))`,
      `create index audit_sinks_due on audit_sinks (next_attempt_time)`,
    ],
    fill: fillAuditChain,
  },
  {
    version: 21,
    name: "last sign-in time",
    statements: [
      // When a human last signed in (browser or firectl), for unused-principal insights (unused_days):
      // null until the first sign-in after this version. Keys' use is api_keys.last_used.
      `alter table users add column last_sign_in_time bigint`,
    ],
  },
  {
    version: 22,
    name: "spend counters",
    statements: [
      // Spend admission without a SUM over usage rows (PostgreSQL without Redis): per spend scope
      // ('account:{id}' or 'key:{id}') and month, the metered spend (moved in the transaction that
      // writes the usage) and the reservations in flight. spend_holds holds each reservation per
      // scope until its call is metered or it expires. Both are rebuilt from usage_daily at start
      // and seeded when missing, so, like rate_windows, they are kept out of the WAL.
      `create {unlogged} table spend_counters (
        scope {id} not null,
        month {id} not null,
        spent_nano bigint not null,
        reserved_nano bigint not null,
        primary key (scope, month))`,
      `create {unlogged} table spend_holds (
        id {id} not null,
        scope {id} not null,
        month {id} not null,
        amount_nano bigint not null,
        expire_time bigint not null,
        primary key (id, scope))`,
      `create index spend_holds_expire_time on spend_holds (expire_time)`,
    ],
  },
  {
    version: 24,
    name: "server settings",
    statements: [
      // What a serving process records for operator commands run elsewhere, such as the URL that
      // 'hearth signin-link' prints (the server's, not the operator shell's HEARTH_PORT).
      `create table server_settings (name text primary key, value text not null, update_time bigint not null)`,
    ],
  },
  {
    version: 25,
    name: "api key limits key",
    statements: [
      // The key whose counters this key's own rpm, tpm and monthly spend share ('' for its own): the
      // first key of its rotation chain, or the key with limits it was made through. Rotating a key, or
      // minting keys through it, never gives a fresh budget.
      `alter table api_keys add column limits_key_id {id} not null default ''`,
      // The API key a key was made through ('' when made by a console session, an ID token or an
      // operator): a key disabled as EXPOSED or COMPROMISED takes the keys made through it along.
      `alter table api_keys add column parent_key_id {id} not null default ''`,
      `create index api_keys_parent_key_id on api_keys (parent_key_id) where parent_key_id <> ''`,
      // Metered usage names the count it went to when it was metered, so that the count survives the
      // deletion of the key that spent it (counters are rebuilt from usage_daily at start).
      `alter table usage_daily add column limits_key_id {id} not null default ''`,
      `update usage_daily set limits_key_id = api_key_id`,
      `create index usage_daily_limits_key_id on usage_daily (limits_key_id, day) where limits_key_id <> ''`,
    ],
  },
  {
    version: 26,
    name: "service account count",
    statements: [
      // How many service accounts the account holds, for the "service-accounts" quota: kept by
      // triggers on users in the transaction that inserts, deletes or changes a user (see `fill`),
      // so a create reads one row instead of counting the account's service accounts.
      `alter table accounts add column service_account_count bigint not null default 0`,
      `update accounts set service_account_count = (select count(*) from users u where u.account_id = accounts.id and u.service_account = 1)`,
    ],
    fill: installServiceAccountCountTriggers,
  },
  {
    version: 27,
    name: "webhook previous secret",
    statements: [
      // The signing secret a rotation replaced, sealed like `secret` (its own sealing context), and
      // until when deliveries are also signed with it (epoch ms; null: no previous secret), so that
      // receivers can switch secrets without dropping events (RotateWebhookSecret).
      `alter table webhooks add column previous_secret text not null default ''`,
      `alter table webhooks add column previous_secret_expire_time bigint`,
    ],
  },
  {
    version: 28,
    name: "deployment autoscaling policy",
    statements: [
      // Fireworks' Deployment.autoscalingPolicy as set (JSON of domain/autoscaling-policy.ts's
      // AutoscalingPolicy, windows in ms); '{}' is every field at its default.
      `alter table deployments add column autoscaling_policy text not null default '{}'`,
    ],
  },
  {
    version: 29,
    name: "api key tombstones",
    statements: [
      // A deleted key that had keys made through it (parent_key_id, live or themselves deleted): its
      // digest, so that a leak report of its secret still disables those keys and is recorded in its
      // account, and its own parent, so that a report of a key above it still reaches them.
      `create table api_key_tombstones (
        digest text primary key,
        id {id} not null,
        account_id {id} not null,
        user_id {id} not null,
        parent_key_id {id} not null default '',
        delete_time bigint not null
      )`,
      `create index api_key_tombstones_parent on api_key_tombstones (parent_key_id) where parent_key_id <> ''`,
    ],
  },
  {
    version: 30,
    name: "user sessions revoke time",
    statements: [
      // When an admin last revoked the user's sessions (epoch ms; 0: never): an ID token issued then
      // or before, and a firectl sign-in made then or before, no longer authenticate or refresh.
      `alter table users add column sessions_revoke_time bigint not null default 0`,
    ],
  },
  {
    version: 31,
    name: "webhook delivery backoff count",
    statements: [
      // The attempts since the delivery was queued or last redelivered by hand: what its backoff
      // doubles on, so that a redelivery is retried like a new delivery. attempt_count stays the
      // total, which numbers the attempts in the log. A delivery in its first round has made all
      // its attempts in it.
      `alter table webhook_deliveries add column backoff_attempt_count integer not null default 0`,
      `update webhook_deliveries set backoff_attempt_count = attempt_count`,
    ],
  },
  {
    version: 32,
    name: "webhooks and audit sinks quotas",
    statements: [],
    // The fixed cap of 20 webhooks an account held became the quota "webhooks" (default and
    // maximum 20, as before), and audit sinks, unbounded before, are held to the quota
    // "audit-sinks" (default and maximum 5): every account created before gets both rows.
    fill: (db) =>
      fillQuotaRows(db, [
        ["webhooks", 20],
        ["audit-sinks", 5],
      ]),
  },
  {
    version: 33,
    name: "leak reports acted on",
    statements: [
      // The digests of the signed leak reports acted on: GitHub's signed format has no nonce or
      // time, so a captured report could otherwise be sent again to disable a key an admin
      // re-enabled. A report is claimed before it is acted on (until claim_expire_time; null once
      // acted on), so that two requests carrying the same report at once do not both act on it.
      `create table leak_reports (
        digest text primary key,
        receive_time bigint not null,
        claim_expire_time bigint)`,
    ],
  },
  {
    version: 34,
    name: "users, models, identity providers and permission presets quotas",
    statements: [],
    // Human users, models, identity providers and permission presets were unbounded: each is now
    // held to its quota (default and maximum 1000, 100, 20 and 100); every account created before
    // gets the rows.
    fill: (db) =>
      fillQuotaRows(db, [
        ["users", 1000],
        ["models", 100],
        ["identity-providers", 20],
        ["permission-presets", 100],
      ]),
  },
  {
    version: 35,
    name: "identity providers, permission presets and webhooks display names folded",
    statements: [
      // Their lists now filter on display_name as every other list does (migration 12): a filter's
      // ':' compares foldCase() forms, so it matches alike in every script on both dialects.
      `alter table identity_providers add column display_name_folded {id} not null default ''`,
      `alter table permission_presets add column display_name_folded {id} not null default ''`,
      `alter table webhooks add column display_name_folded {id} not null default ''`,
    ],
    fill: async (db) => {
      for (const table of ["identity_providers", "permission_presets", "webhooks"] as const)
        await fillFolded(db, table, ["account_id", "id"], ["display_name"]);
    },
  },
  {
    version: 36,
    name: "deployment serving options",
    statements: [
      // Fireworks' other Deployment fields of desired state (precision, placement, enableAddons,
      // speculative decoding, …) as set: JSON of domain/deployment-options.ts's DeploymentOptions,
      // under Fireworks' names; '{}' is none set.
      `alter table deployments add column serving_options text not null default '{}'`,
    ],
  },
  {
    version: 37,
    name: "firectl sign-outs",
    statements: [
      // A firectl sign-in its user ended with 'firectl signout': every refresh token descending from
      // that browser sign-in (named by its user and sign-in time) is no longer renewed.
      `create table cli_sign_outs (
        account_id {id} not null,
        user_id {id} not null,
        sign_in_time bigint not null,
        sign_out_time bigint not null,
        primary key (account_id, user_id, sign_in_time),
        foreign key (account_id, user_id) references users(account_id, id) on delete cascade)`,
    ],
  },
];

/**
 * Gives every stored account a row for each `[quota id, value]` (as value and maximum), for a quota
 * added after accounts were created; a row already there is kept. The values are the migration's
 * own, not today's defaults, so that a migration always does what it did.
 */
async function fillQuotaRows(db: Kysely<Schema>, quotas: ReadonlyArray<readonly [string, number]>): Promise<void> {
  for (const [id, value] of quotas) {
    await sql`insert into quotas (account_id, id, value, max_value, update_time)
      select a.id, ${id}, ${value}, ${value}, ${Date.now()} from accounts a
      where not exists (select 1 from quotas q where q.account_id = a.id and q.id = ${id})`.execute(db);
  }
}

/**
 * Triggers that keep `accounts.service_account_count` equal to the account's users with
 * `service_account = 1`, in the same transaction as the change: a user inserted, deleted, or
 * moved in or out of being a service account. PostgreSQL runs them in a PL/pgSQL function.
 */
async function installServiceAccountCountTriggers(db: Kysely<Schema>, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") {
    await sql`create function users_service_account_count() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' and old.service_account = 1 then
          update accounts set service_account_count = service_account_count - 1 where id = old.account_id;
        end if;
        if tg_op <> 'DELETE' and new.service_account = 1 then
          update accounts set service_account_count = service_account_count + 1 where id = new.account_id;
        end if;
        return null;
      end $$`.execute(db);
    await sql`create trigger users_service_account_count after insert or delete or update of service_account, account_id on users
      for each row execute function users_service_account_count()`.execute(db);
    return;
  }
  await sql`create trigger users_service_account_insert after insert on users when new.service_account = 1 begin
    update accounts set service_account_count = service_account_count + 1 where id = new.account_id;
  end`.execute(db);
  await sql`create trigger users_service_account_delete after delete on users when old.service_account = 1 begin
    update accounts set service_account_count = service_account_count - 1 where id = old.account_id;
  end`.execute(db);
  await sql`create trigger users_service_account_update after update of service_account, account_id on users
    when old.service_account = 1 or new.service_account = 1 begin
    update accounts set service_account_count = service_account_count - old.service_account where id = old.account_id;
    update accounts set service_account_count = service_account_count + new.service_account where id = new.account_id;
  end`.execute(db);
}

/** A version 4 UUID (RFC 9562) in SQLite, which has no function for one: 122 random bits, lower-case hex. */
const SQLITE_UUID = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
  || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Applies every migration newer than the store's version (up to `upTo`, for upgrade tests that
 * need a store at an older version); returns the versions applied.
 */
export async function migrate(db: Kysely<Schema>, dialect: Dialect, upTo = LATEST_VERSION): Promise<number[]> {
  // One connection throughout, so the PostgreSQL advisory lock is held by the connection that migrates.
  return db.connection().execute(async (conn) => {
    await sql`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_time bigint not null)`.execute(conn);
    // Several processes may start at once against one database: one migrates, the others wait.
    if (dialect === "postgres") await sql`select pg_advisory_lock(7210461)`.execute(conn);
    try {
      const rows = await conn.selectFrom("schema_migrations").select("version").execute();
      const done = new Set(rows.map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version) || m.version > upTo) continue;
        await conn.transaction().execute(async (trx) => {
          for (const statement of m.statements) {
            const text = statement
              .replaceAll("{id}", dialect === "postgres" ? 'text collate "C"' : "text")
              .replaceAll("{unlogged}", dialect === "postgres" ? "unlogged" : "")
              .replaceAll("{uuid}", dialect === "postgres" ? "gen_random_uuid()::text" : SQLITE_UUID);
            await sql.raw(text).execute(trx);
          }
          await m.fill?.(trx, dialect);
          await trx.insertInto("schema_migrations").values({ version: m.version, name: m.name, applied_time: Date.now() }).execute();
        });
        applied.push(m.version);
      }
      return applied;
    } finally {
      if (dialect === "postgres") await sql`select pg_advisory_unlock(7210461)`.execute(conn);
    }
  });
}
