import type { Config } from "../config.ts";
import type { Action } from "../domain/actions.ts";
import type { Role } from "../domain/roles.ts";
import type { Store } from "../store/store.ts";
import type { LastUsedRecorder } from "./last-used.ts";
import type { RateLimiter } from "../gateway/rate-limiter.ts";
import type { KeyCache } from "./key-cache.ts";
import type { AuthThrottle } from "./auth-throttle.ts";
import type { Cluster } from "../cluster/setup.ts";
import type { OutboundFetch } from "./outbound-fetch.ts";

/** Who is acting: resolved from an API key (or, later, a session or OIDC token). */
export interface Principal {
  accountId: string;
  userId: string;
  email: string;
  role: Role;
  serviceAccount: boolean;
  /** Empty when the principal did not authenticate with an API key. */
  apiKeyId: string;
}

export interface RequestMeta {
  userAgent: string;
  clientIp: string;
}

/** A principal acting through one request. */
export interface Ctx {
  principal: Principal;
  meta: RequestMeta;
  /**
   * The actions `authorize` checked for this request, allowed or refused, in order (usually one).
   * The audit entry is an admin action when any of them is (see `audited`).
   */
  checked: Action[];
}

/** What every use case needs: the store, the configuration and shared process state. */
export interface Deps {
  store: Store;
  config: Config;
  lastUsed: LastUsedRecorder;
  /** Counts inference requests against serverless-inference-rpm. */
  rateLimiter: RateLimiter;
  keyCache: KeyCache;
  authThrottle: AuthThrottle;
  /** Cross-process coordination: cache invalidation (`cluster.invalidator`) and readiness. */
  cluster: Cluster;
  /** The one fetch for tenant-configured URLs (identity providers): public addresses only, unless the operator allows more. */
  outbound?: OutboundFetch | undefined;
}
