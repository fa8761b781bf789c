import type { Config } from "../config.ts";
import type { Backend } from "../platform-config.ts";
import type { Action } from "../domain/actions.ts";
import type { Principal } from "../domain/principal.ts";
import type { Store } from "../store/store.ts";
import type { LastUsedRecorder } from "./last-used.ts";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { KeyCache } from "./key-cache.ts";
import type { InferenceCache } from "./inference-cache.ts";
import type { AuthThrottle } from "./auth-throttle.ts";
import type { Cluster } from "../domain/cluster.ts";
import type { OutboundFetch } from "./outbound-fetch.ts";
import type { Clock } from "../domain/clock.ts";

export interface RequestMeta {
  userAgent: string;
  clientIp: string;
  /** The request's id (x-request-id), recorded in audit entries. */
  requestId?: string | undefined;
  /** How the request authenticated when not with an API key: `session`, `oidc:<issuer>` (audit entries' `authentication`). */
  authentication?: string | undefined;
}

/** What an audit entry records about an operation. */
export interface Operation {
  /** RPC-style method name, e.g. `CreateUser`. */
  method: string;
  resource: string;
  /** The request, with secrets redacted here. */
  payload?: unknown;
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
  /**
   * The operation the service is carrying out (set by `audited` / `auditRefusals`): a refusal of
   * the request is audited as it; before a service names one, the router's route name and path.
   */
  operation?: Operation | undefined;
  /**
   * A refusal that a summary entry stands for instead of its own (inference requests refused by
   * serverless-inference-rpm past the first few per key and minute: `src/gateway/rate-refusals.ts`).
   */
  summarised?: boolean;
}

/** What every use case needs: the store, the configuration and shared process state. */
export interface Deps {
  store: Store;
  config: Config;
  lastUsed: LastUsedRecorder;
  /** Counts inference requests against serverless-inference-rpm. */
  rateLimiter: RateLimiter;
  keyCache: KeyCache;
  /** The gateway's account state in memory: inference quotas, models, deployments (invalidated through `cluster.invalidator.account`). */
  inferenceCache: InferenceCache;
  authThrottle: AuthThrottle;
  /** Cross-process coordination: cache invalidation (`cluster.invalidator`) and readiness. */
  cluster: Cluster;
  /** The one fetch for tenant-configured URLs (identity providers): public addresses only, unless the operator allows more. */
  outbound?: OutboundFetch | undefined;
  /**
   * Asks a backend whether it answers within `timeoutMs` (the gateway's `probeBackend`): undefined
   * when it does, else the reason. Handed in, so that services do not import the gateway, which uses them.
   */
  probeBackend: (backend: Backend, timeoutMs: number) => Promise<string | undefined>;
  /** The time for lifecycle rules (key expiry and rotation grace, notices): `systemClock` but in tests. */
  clock: Clock;
}
