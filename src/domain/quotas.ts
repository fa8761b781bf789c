/** The quotas every account has, and their defaults: `maxValue` set by the operator, `value` ≤ max by an admin. */
export const QUOTA_DEFAULTS = {
  "serverless-inference-rpm": 6000,
  "monthly-spend-usd": 1000,
  deployments: 16,
  datasets: 100,
  "dataset-storage-bytes": 10 * 1024 ** 3,
  "service-accounts": 100,
  // Human users (service accounts have their own quota), however created: by an admin or on first sign-in.
  users: 1000,
  "api-keys-per-user": 10,
  // An event is delivered to every webhook subscribed to it: this bounds an account's fan-out.
  webhooks: 20,
  // Each audit sink is sent the account's whole audit stream: this bounds that fan-out too.
  "audit-sinks": 5,
  // What else an account can create is bounded too, so that no credential can fill the store:
  // models (served by the operator's backends), OIDC identity providers and permission presets.
  models: 100,
  "identity-providers": 20,
  "permission-presets": 100,
} as const satisfies Record<string, number>;

export type QuotaId = keyof typeof QUOTA_DEFAULTS;
export const QUOTA_IDS = Object.keys(QUOTA_DEFAULTS) as QuotaId[];

export function isQuotaId(value: string): value is QuotaId {
  return Object.hasOwn(QUOTA_DEFAULTS, value);
}
