import { z } from "zod";
import "./domain/zod-messages.ts";
import { KEY_PREFIX_SYNTAX } from "./domain/api-key-format.ts";
import { FIELD_MESSAGES } from "./domain/field-rules.ts";
import { checkEmail, isValidId } from "./domain/ids.ts";
import { parseSecretKey } from "./domain/secret-box.ts";
import { DECIMAL_DIGITS, wholeNumber } from "./domain/whole-number.ts";
import { loadPlatformConfig, type PlatformConfig } from "./platform-config.ts";
import { loadLeakReportConfig, type LeakReportConfig } from "./leak-report-config.ts";

/**
 * A whole-number setting from `min` to `max`, written in decimal digits: `z.coerce.number` also
 * took `0x1F90`, `1e3`, ` 80` and `1.0`, reading another spelling (or a typo) as some number.
 */
const wholeNumberSetting = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(DECIMAL_DIGITS, "must be a whole number in decimal digits").transform(Number).pipe(z.number().int().min(min).max(max));

/** Configuration, parsed once from the environment into a frozen object; an unsafe value stops start-up. */
const schema = z.object({
  HEARTH_HOST: z.string().min(1).default("127.0.0.1"),
  HEARTH_PORT: wholeNumberSetting(0, 65535).default(8080),
  HEARTH_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (leave unset for the embedded SQLite store)")
    .optional(),
  HEARTH_ACCOUNT_ID: z.string().refine(isValidId, FIELD_MESSAGES.storedId).default("my-account"),
  HEARTH_ADMIN_EMAIL: z
    .string()
    .superRefine((value, ctx) => {
      try {
        checkEmail(value, "HEARTH_ADMIN_EMAIL");
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    })
    .default("admin@example.com"),
  HEARTH_SA_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, "must be a DNS domain")
    .default("sa.hearth.local"),
  HEARTH_KEY_PREFIX: z.string().regex(KEY_PREFIX_SYNTAX, "must be 1-8 lowercase letters/digits, the first a letter, followed by '_'").default("hk_"),
  HEARTH_LOG_LEVEL: z.enum(["silent", "error", "warn", "info", "debug"]).default("info"),
  HEARTH_BODY_LIMIT: wholeNumberSetting(1024).default(1024 * 1024),
  HEARTH_LAST_USED_FLUSH_MS: wholeNumberSetting(10).default(1000),
  HEARTH_SECRET_KEY: z
    .string()
    .refine((v) => parseSecretKey(v) !== undefined, "must be 32 bytes written as 64 hex characters or base64")
    .optional(),
  HEARTH_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((v) => new URL(v).pathname === "/" && !new URL(v).search, "must be an origin like https://hearth.example.com (no path)")
    .optional(),
  HEARTH_SESSION_IDLE_MINUTES: wholeNumberSetting(1).default(60),
  HEARTH_SESSION_MAX_HOURS: wholeNumberSetting(1).default(12),
  HEARTH_HEADERS_TIMEOUT_MS: wholeNumberSetting(100, 300_000).default(20_000),
  HEARTH_REQUEST_TIMEOUT_MS: wholeNumberSetting(100).default(120_000),
  HEARTH_KEEP_ALIVE_TIMEOUT_MS: wholeNumberSetting(100).default(72_000),
  HEARTH_CONNECTION_TIMEOUT_MS: wholeNumberSetting(0).default(0),
  HEARTH_CONFIG: z.string().optional(),
  HEARTH_KEY_CACHE_SIZE: wholeNumberSetting(0).default(100_000),
  HEARTH_KEY_CACHE_TTL_MS: wholeNumberSetting(0, 600_000).default(30_000),
  HEARTH_NEGATIVE_CACHE_SIZE: wholeNumberSetting(0).default(10_000),
  HEARTH_NEGATIVE_CACHE_TTL_MS: wholeNumberSetting(0, 60_000).default(5_000),
  HEARTH_AUTH_FAILURES_SLOW: wholeNumberSetting(1).default(10),
  HEARTH_AUTH_FAILURES_BLOCK: wholeNumberSetting(1).default(50),
  HEARTH_AUTH_FAILURE_WINDOW_MS: wholeNumberSetting(100).default(60_000),
  HEARTH_AUDIT_RETENTION_DAYS: wholeNumberSetting(0).default(400),
  HEARTH_DELETED_RETENTION_DAYS: wholeNumberSetting(0, 3650).default(7),
  HEARTH_SIGNED_URL_TTL_SECONDS: wholeNumberSetting(1, 604_800).default(3600),
  HEARTH_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2}|[0-9a-fA-F:.\/]+(,[0-9a-fA-F:.\/]+)*)$/, "must be true, false, a hop count, or comma-separated proxy addresses/CIDRs")
    .optional(),
  HEARTH_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  HEARTH_ALLOW_PRIVATE_NETWORKS: z.enum(["true", "false"], "must be true or false").default("false"),
  HEARTH_LEAK_REPORT_PUBLIC_KEYS: z.string().optional(),
  HEARTH_LEAK_REPORT_SECRET: z.string().optional(),
  HEARTH_WEBHOOK_POLL_MS: wholeNumberSetting(10, 60_000).default(1000),
  HEARTH_WEBHOOK_RETRY_BASE_MS: wholeNumberSetting(1, 3_600_000).default(30_000),
  HEARTH_OIDC_MAX_TOKEN_LIFETIME_S: wholeNumberSetting(60, 30 * 86400).default(86400),
});

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly accountId: string;
  readonly adminEmail: string;
  readonly saDomain: string;
  readonly keyPrefix: string;
  readonly logLevel: "silent" | "error" | "warn" | "info" | "debug";
  readonly bodyLimit: number;
  readonly lastUsedFlushMs: number;
  /** Key that seals identity-provider secrets at rest; unset: generated once into `<dataDir>/secret-key`. */
  readonly secretKey: string | undefined;
  /** The origin browsers use to reach Hearth (sign-in links, OIDC redirect URI); unset: taken from the request. */
  readonly publicUrl: string | undefined;
  readonly session: { idleMs: number; maxMs: number };
  /**
   * Slow clients: the time to send the headers and the whole request, the idle time of a kept-alive
   * connection, and of any socket (0: none, so long inference calls keep theirs).
   */
  readonly timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; connectionMs: number };
  /** Backends, public models and gateway limits from the HEARTH_CONFIG file. */
  readonly platform: PlatformConfig;
  readonly keyCache: { size: number; ttlMs: number; negativeSize: number; negativeTtlMs: number };
  /** Failed authentications per client address: slowed after `slowAfter`, refused after `blockAfter`, per window. */
  readonly authFailures: { slowAfter: number; blockAfter: number; windowMs: number };
  /** Audit entries older than this are deleted (0 keeps them forever). */
  readonly auditRetentionDays: number;
  /** Days a soft-deleted deployment can be undeleted before it is purged (0: purged at the next read). */
  readonly deletedRetentionDays: number;
  /** How long a dataset's signed upload or download URL works, in seconds (HEARTH_SIGNED_URL_TTL_SECONDS, default 3600, at most 7 days). */
  readonly signedUrlTtlSeconds: number;
  /** Shared rate-limit counters and cache invalidation across processes (else PostgreSQL does both). */
  readonly redisUrl: string | undefined;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (audit `clientIp`, failed-
   * attempt throttling): false (default), true, a hop count, or addresses/CIDRs.
   */
  readonly trustProxy: boolean | number | string[];
  /**
   * Whether connections a tenant can configure (identity providers; later webhooks and audit sinks)
   * may reach loopback, private, link-local, CGNAT and other non-public addresses, and plain http to
   * them. Off by default: an operator's switch (HEARTH_ALLOW_PRIVATE_NETWORKS), never an account admin's.
   */
  readonly allowPrivateNetworks: boolean;
  /** ID tokens whose lifetime (`exp - iat`, seconds) exceeds this are refused. */
  readonly oidcMaxTokenLifetimeS: number;
  /** Who may report leaked keys (HEARTH_LEAK_REPORT_PUBLIC_KEYS, HEARTH_LEAK_REPORT_SECRET; docs/leak-reports.md). */
  readonly leakReports: LeakReportConfig;
  /**
   * Webhook delivery: how often each process looks for due deliveries (`pollMs`), and the first
   * retry's delay (`retryBaseMs`), doubled after each failed attempt up to 6 hours, for a day.
   */
  readonly webhooks: { pollMs: number; retryBaseMs: number };
}

export class ConfigError extends Error {}

function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  const hops = wholeNumber(value);
  if (hops !== undefined) return hops;
  return value.split(",");
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join(".")} ${issue.message}`);
  }
  const e = parsed.data;
  if (e.HEARTH_HEADERS_TIMEOUT_MS > e.HEARTH_REQUEST_TIMEOUT_MS) {
    throw new ConfigError("invalid configuration: HEARTH_HEADERS_TIMEOUT_MS must not exceed HEARTH_REQUEST_TIMEOUT_MS");
  }
  return Object.freeze({
    host: e.HEARTH_HOST,
    port: e.HEARTH_PORT,
    dataDir: e.HEARTH_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    accountId: e.HEARTH_ACCOUNT_ID,
    adminEmail: e.HEARTH_ADMIN_EMAIL.toLowerCase(),
    saDomain: e.HEARTH_SA_DOMAIN,
    keyPrefix: e.HEARTH_KEY_PREFIX,
    logLevel: e.HEARTH_LOG_LEVEL,
    bodyLimit: e.HEARTH_BODY_LIMIT,
    lastUsedFlushMs: e.HEARTH_LAST_USED_FLUSH_MS,
    secretKey: e.HEARTH_SECRET_KEY,
    publicUrl: e.HEARTH_PUBLIC_URL ? new URL(e.HEARTH_PUBLIC_URL).origin : undefined,
    session: Object.freeze({ idleMs: e.HEARTH_SESSION_IDLE_MINUTES * 60_000, maxMs: e.HEARTH_SESSION_MAX_HOURS * 3_600_000 }),
    timeouts: Object.freeze({
      headersMs: e.HEARTH_HEADERS_TIMEOUT_MS,
      requestMs: e.HEARTH_REQUEST_TIMEOUT_MS,
      keepAliveMs: e.HEARTH_KEEP_ALIVE_TIMEOUT_MS,
      connectionMs: e.HEARTH_CONNECTION_TIMEOUT_MS,
    }),
    platform: loadPlatformConfig(e.HEARTH_CONFIG, env),
    keyCache: Object.freeze({
      size: e.HEARTH_KEY_CACHE_SIZE,
      ttlMs: e.HEARTH_KEY_CACHE_TTL_MS,
      negativeSize: e.HEARTH_NEGATIVE_CACHE_SIZE,
      negativeTtlMs: e.HEARTH_NEGATIVE_CACHE_TTL_MS,
    }),
    authFailures: Object.freeze({
      slowAfter: e.HEARTH_AUTH_FAILURES_SLOW,
      blockAfter: e.HEARTH_AUTH_FAILURES_BLOCK,
      windowMs: e.HEARTH_AUTH_FAILURE_WINDOW_MS,
    }),
    auditRetentionDays: e.HEARTH_AUDIT_RETENTION_DAYS,
    deletedRetentionDays: e.HEARTH_DELETED_RETENTION_DAYS,
    signedUrlTtlSeconds: e.HEARTH_SIGNED_URL_TTL_SECONDS,
    redisUrl: e.HEARTH_REDIS_URL,
    trustProxy: parseTrustProxy(e.HEARTH_TRUST_PROXY),
    allowPrivateNetworks: e.HEARTH_ALLOW_PRIVATE_NETWORKS === "true",
    oidcMaxTokenLifetimeS: e.HEARTH_OIDC_MAX_TOKEN_LIFETIME_S,
    leakReports: loadLeakReportConfig(e.HEARTH_LEAK_REPORT_PUBLIC_KEYS, e.HEARTH_LEAK_REPORT_SECRET),
    webhooks: Object.freeze({ pollMs: e.HEARTH_WEBHOOK_POLL_MS, retryBaseMs: e.HEARTH_WEBHOOK_RETRY_BASE_MS }),
  });
}
