import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Config } from "./config.ts";
import { probeBackend } from "./gateway/upstream.ts";
import { buildApp, type AppOptions } from "./http/app.ts";
import { createAccount } from "./service/accounts.ts";
import { createSigninLink } from "./service/signin-links.ts";
import type { Deps } from "./service/context.ts";
import { LastUsedRecorder } from "./service/last-used.ts";
import { createOutboundFetch, type NetworkOptions } from "./service/outbound-fetch.ts";
import { startCluster } from "./cluster/setup.ts";
import { flushRateRefusals } from "./gateway/rate-refusals.ts";
import { KeyCache } from "./service/key-cache.ts";
import { InferenceCache } from "./service/inference-cache.ts";
import { AuthThrottle } from "./service/auth-throttle.ts";
import { auditSuppressedAttempts } from "./service/audit.ts";
import { startAuditRetention } from "./service/retention.ts";
import { startAuditSigner } from "./service/audit-signing.ts";
import { startAuditSinkDelivery } from "./service/audit-sink-delivery.ts";
import { startWebhookDelivery } from "./service/webhook-delivery.ts";
import { startDeploymentRecovery } from "./service/deployment-recovery.ts";
import { accountsWithOtherSaDomain, fillServiceAccountDomains, getAccount } from "./store/accounts.ts";
import { disabledIdentityProviders } from "./store/identity-providers.ts";
import { storedLookAlikeIdentities } from "./service/look-alike-identities.ts";
import { openStore, type Store } from "./store/store.ts";
import { privateDataDir } from "./store/private-files.ts";
import { ApiError } from "./domain/errors.ts";
import { identityProviderName } from "./domain/resource-names.ts";
import { systemClock, type Clock } from "./domain/clock.ts";

export interface Hearth {
  app: FastifyInstance;
  deps: Deps;
  /** Stops accepting, finishes in-flight requests, flushes pending writes, closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the store (running migrations) and builds the application around it. `network` replaces
 * how tenant-configured URLs are resolved, classified and trusted (tests only: it lets a loopback
 * server count as public, or answer DNS differently on each lookup). `clock` replaces the time lifecycle
 * rules read (tests: a `ManualClock`).
 */
export async function createHearth(config: Config, options: AppOptions & { store?: Store; network?: NetworkOptions; clock?: Clock } = {}): Promise<Hearth> {
  const store = options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, checkpointInBackground: true }));
  const keyCache = new KeyCache(config.keyCache);
  const inferenceCache = new InferenceCache(config.keyCache.ttlMs);
  let app: FastifyInstance | undefined;
  const logError = (error: unknown) => app?.log.error({ err: error }, "cluster coordination failed");
  const caches = {
    invalidateKey: (keyId: string) => keyCache.invalidateKey(keyId),
    invalidateUser: (accountId: string, userId: string) => keyCache.invalidateUser(accountId, userId),
    invalidateAccount: (accountId: string) => inferenceCache.invalidateAccount(accountId),
    clear: () => {
      keyCache.clear();
      inferenceCache.clear();
    },
  };
  const cluster = await startCluster(config, store, caches, logError);
  const deps: Deps = {
    store,
    config,
    lastUsed: new LastUsedRecorder(store, config.lastUsedFlushMs),
    rateLimiter: cluster.rateLimiter,
    keyCache,
    inferenceCache,
    authThrottle: new AuthThrottle(config.authFailures, (summary) => auditSuppressedAttempts(deps, summary)),
    cluster,
    outbound: createOutboundFetch(config.allowPrivateNetworks, options.network),
    probeBackend,
    clock: options.clock ?? systemClock,
  };
  app = buildApp(deps, options);
  // Issue 13: providers disabled because another account holds their issuer and client id.
  for (const row of await disabledIdentityProviders(store.db)) {
    app.log.warn(
      `identity provider ${identityProviderName(row.account_id, row.id)} is DISABLED: its issuer and client id are registered to another account (settle with 'hearth identity-provider release')`,
    );
  }
  // Each account keeps the service-account domain it was created with (docs/operations.md).
  await fillServiceAccountDomains(store.db, config.saDomain);
  for (const row of await accountsWithOtherSaDomain(store.db, config.saDomain)) {
    app.log.warn(
      `account "${row.id}" keeps its service-account domain ${row.sa_domain} (new service accounts: {user}@${row.id}.${row.sa_domain}), not HEARTH_SA_DOMAIN=${config.saDomain}, which applies to accounts created from now on`,
    );
  }
  // Issue 15: emails stored before the look-alike rule are kept, and named for review.
  for (const found of await storedLookAlikeIdentities(store.db)) {
    app.log.warn(`user ${found.name} is kept, but its email would be refused today as a look-alike identity: ${found.reason}`);
  }
  const stopRetention = startAuditRetention(store, config.auditRetentionDays, (error) => app?.log.error({ err: error }, "audit retention failed"));
  const stopSigner = startAuditSigner(store, config, (error) => app?.log.error({ err: error }, "audit checkpoint signing failed"));
  const stopSinks = startAuditSinkDelivery(deps, (error) => app?.log.error({ err: error }, "audit sink delivery failed"));
  const stopRecovery = startDeploymentRecovery(deps, (error) => app?.log.error({ err: error }, "deployment recovery failed"));
  const log = app.log;
  const stopWebhooks = startWebhookDelivery(deps, { warn: (message) => log.warn(message), error: (error, message) => log.error({ err: error }, message) });
  let closed: Promise<void> | undefined;
  const built = app;
  return {
    app: built,
    deps,
    close: () =>
      (closed ??= (async () => {
        stopRetention();
        await stopSigner();
        await stopSinks();
        await stopRecovery();
        await built.close();
        await stopWebhooks();
        await deps.authThrottle.stop();
        await flushRateRefusals(store);
        // Inference usage is metered behind the responses: the last batch is written before the store closes.
        await cluster.meter.flush().catch(logError);
        await deps.lastUsed.flush();
        await cluster.close();
        await deps.outbound?.close();
        if (!options.store) await store.close();
      })()),
  };
}

/**
 * First start on an empty store: creates the configured account with its human admin and prints
 * the admin's API key once, also writing it to `<dataDir>/admin-api-key` (mode 0600). A restart
 * (or a second process racing this one) finds the account and creates nothing.
 */
export async function bootstrap(deps: Deps, print: (line: string) => void): Promise<void> {
  const { config, store } = deps;
  if (await getAccount(store.db, config.accountId)) return;
  let created;
  try {
    created = await createAccount(store, config, config.accountId, config.adminEmail);
  } catch (error) {
    if (error instanceof ApiError && error.status === "ALREADY_EXISTS") return;
    throw error;
  }
  privateDataDir(config.dataDir);
  const keyFile = join(config.dataDir, "admin-api-key");
  writeFileSync(keyFile, `${created.apiKey}\n`, { mode: 0o600 });
  print(`Created account "${created.accountId}" with admin ${created.adminEmail}.`);
  print(`Admin API key (shown once; also written to ${keyFile}):`);
  print(`  ${created.apiKey}`);
  // For the browser: printed only, never written to a file (it is a credential until used).
  const link = await createSigninLink(deps, created.accountId, created.adminEmail);
  print(`One-time web sign-in link for ${created.adminEmail} (single use, expires in 15 minutes):`);
  print(`  ${link.url}`);
}
