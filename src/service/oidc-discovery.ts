import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";
import * as client from "openid-client";
import { ApiError } from "../domain/errors.ts";
import { outboundUrlProblem } from "../domain/network-address.ts";
import type { IdentityProviderRow } from "../store/schema.ts";
import { clientSecretOf } from "./identity-providers.ts";
import { isOutboundFailure, OutboundFailure, outboundOf, type OutboundFetch } from "./outbound-fetch.ts";
import type { SignInDeps } from "./sign-in.ts";

/**
 * OIDC discovery per identity provider, cached per outbound fetch (one per server). A provider's
 * entry is keyed by its `update_time`, so an admin's change takes effect on the next sign-in;
 * otherwise the issuer's metadata is fetched again after ten minutes, and a failed discovery after
 * FAILED_FETCH_MEMORY_MS. Signing keys (JWKS) are cached per `jwks_uri` by jose, which refetches on
 * an unknown `kid` (key rotation) at most once per its 30 s cooldown. Every request goes
 * through the outbound fetch, which reaches only public addresses unless the operator allows more.
 */
const TTL_MS = 10 * 60 * 1000;
/**
 * How long a failed discovery (or key-set fetch) is remembered: meanwhile every caller gets the same
 * UNAVAILABLE sentence without a request leaving Hearth, so however many strangers ask, each process
 * calls a failing issuer at most once per this period. Short, so a provider that comes back is usable
 * again within half a minute.
 */
const FAILED_FETCH_MEMORY_MS = 30 * 1000;
const MAX_ENTRIES = 1000;

interface Entry {
  at: number;
  config: Promise<client.Configuration>;
}

interface Caches {
  configurations: Map<string, Entry>;
  keySets: Map<string, JWTVerifyGetKey>;
  /** `jwks_uri` → when fetching it last failed. */
  failedKeySets: Map<string, number>;
}

const caches = new WeakMap<OutboundFetch, Caches>();

function cachesOf(outbound: OutboundFetch): Caches {
  let found = caches.get(outbound);
  if (!found) {
    found = { configurations: new Map(), keySets: new Map(), failedKeySets: new Map() };
    caches.set(outbound, found);
  }
  return found;
}

/**
 * The one sentence for every failure to fetch from a provider (closed port, refused address, TLS,
 * bad JSON, timeout alike): a difference between them, even the port inside an echoed URL, would
 * make Hearth a port scanner.
 */
export const providerUnavailable = (row: IdentityProviderRow): ApiError =>
  new ApiError("UNAVAILABLE", `identity provider "${row.id}" did not answer OIDC discovery; try again later`);

/** The endpoints Hearth or the browser is sent to; each must pass the same rule as the issuer. */
const ENDPOINTS = ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] as const;

/** Refuses discovered endpoints that are not https on a public address (they may live on other hosts). */
function checkEndpoints(outbound: OutboundFetch, metadata: client.ServerMetadata): void {
  for (const name of ENDPOINTS) {
    const value = metadata[name];
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new OutboundFailure(`${name} is not a URL`);
    }
    const problem = outboundUrlProblem(url, outbound.allowPrivate, outbound.classify);
    if (problem) throw new OutboundFailure(`${name}: ${problem}`);
  }
}

async function discover(deps: SignInDeps, row: IdentityProviderRow): Promise<client.Configuration> {
  const secret = clientSecretOf(deps, row);
  const outbound = outboundOf(deps);
  // openid-client refuses plain http unless told; the outbound fetch decides whether http may be used.
  const execute = outbound.allowPrivate && new URL(row.issuer_url).protocol === "http:" ? [client.allowInsecureRequests] : [];
  let found: client.Configuration;
  try {
    found = await client.discovery(new URL(row.issuer_url), row.client_id, undefined, client.None(), { execute, timeout: 10, [client.customFetch]: outbound });
    checkEndpoints(outbound, found.serverMetadata());
  } catch {
    throw providerUnavailable(row);
  }
  const metadata = found.serverMetadata();
  // Client authentication: basic is the OIDC default; post only when the issuer offers nothing else.
  const methods = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  const auth =
    secret === undefined
      ? client.None()
      : methods.includes("client_secret_basic") || !methods.includes("client_secret_post")
        ? client.ClientSecretBasic(secret)
        : client.ClientSecretPost(secret);
  const config = new client.Configuration(metadata, row.client_id, secret === undefined ? undefined : { client_secret: secret }, auth);
  config.timeout = 10;
  // Token, UserInfo and the ID token's JWKS go through the same outbound fetch as discovery.
  config[client.customFetch] = outbound;
  for (const step of execute) step(config);
  // Verify the ID token's signature too, not only its claims (defence in depth beyond TLS).
  client.enableNonRepudiationChecks(config);
  return config;
}

/** The discovered client configuration of an identity provider (UNAVAILABLE when the issuer does not answer). */
export async function oidcConfiguration(deps: SignInDeps, row: IdentityProviderRow): Promise<client.Configuration> {
  const { configurations } = cachesOf(outboundOf(deps));
  const key = `${row.account_id}/${row.id}@${row.update_time}`;
  const now = Date.now();
  const hit = configurations.get(key);
  // Concurrent callers share the one discovery in flight.
  if (hit && now - hit.at < TTL_MS) return hit.config;
  if (configurations.size >= MAX_ENTRIES) configurations.clear();
  const config = discover(deps, row);
  const entry: Entry = { at: now, config };
  configurations.set(key, entry);
  // A failure is kept for FAILED_FETCH_MEMORY_MS from when it happened (counted by moving `at` back
  // so the entry ages out then), not forgotten: a stranger's next request must not ask again.
  config.catch(() => {
    entry.at = Date.now() - TTL_MS + FAILED_FETCH_MEMORY_MS;
  });
  return config;
}

/**
 * A key set is read in full and must be a JSON object with a `keys` array; anything else (an error
 * status, HTML, bad JSON) is a fetch failure, not a signature failure, so it gets the one sentence.
 */
function keySetFetch(outbound: OutboundFetch): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await outbound(url, init);
    const text = await response.text().catch(() => {
      throw new OutboundFailure("the key set could not be read");
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OutboundFailure("the key set is not JSON");
    }
    if (response.status !== 200 || typeof parsed !== "object" || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys)) {
      throw new OutboundFailure("the key set is not a JWKS");
    }
    return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
  };
}

/**
 * The issuer's signing keys, for verifying bearer ID tokens. Fetching them fails with the same
 * UNAVAILABLE sentence as discovery; a key set that was fetched but has no matching key is jose's
 * error (the signature does not verify).
 */
export async function issuerKeys(deps: SignInDeps, row: IdentityProviderRow): Promise<JWTVerifyGetKey> {
  const outbound = outboundOf(deps);
  const { keySets, failedKeySets } = cachesOf(outbound);
  const metadata = (await oidcConfiguration(deps, row)).serverMetadata();
  if (!metadata.jwks_uri) throw providerUnavailable(row);
  const jwksUri = metadata.jwks_uri;
  // jose refetches a key set it could not fetch on every call (its cooldown starts only after a
  // success): a failure is remembered here for as long as a failed discovery.
  const failedAt = failedKeySets.get(jwksUri);
  if (failedAt !== undefined && Date.now() - failedAt < FAILED_FETCH_MEMORY_MS) throw providerUnavailable(row);
  let keys = keySets.get(metadata.jwks_uri);
  if (!keys) {
    if (keySets.size >= MAX_ENTRIES) keySets.clear();
    keys = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5000, [customFetch]: keySetFetch(outbound) });
    keySets.set(metadata.jwks_uri, keys);
  }
  const remote = keys;
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (isOutboundFailure(error) || error instanceof errors.JWKSTimeout) {
        if (failedKeySets.size >= MAX_ENTRIES) failedKeySets.clear();
        failedKeySets.set(jwksUri, Date.now());
        throw providerUnavailable(row);
      }
      throw error;
    }
  };
}
