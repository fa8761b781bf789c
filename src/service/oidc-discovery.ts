import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import * as client from "openid-client";
import { ApiError } from "../domain/errors.ts";
import { isLoopbackHost } from "../domain/sign-in.ts";
import type { IdentityProviderRow } from "../store/schema.ts";
import { clientSecretOf } from "./identity-providers.ts";
import type { SignInDeps } from "./sign-in.ts";

/**
 * OIDC discovery per identity provider, cached in the process. A provider's entry is keyed by its
 * `update_time`, so an admin's change takes effect on the next sign-in; otherwise the issuer's
 * metadata is fetched again after ten minutes. Signing keys (JWKS) are cached per `jwks_uri` by jose,
 * which refetches on an unknown `kid` (key rotation).
 */
const TTL_MS = 10 * 60 * 1000;
const MAX_ENTRIES = 1000;

interface Entry {
  at: number;
  config: Promise<client.Configuration>;
}

const configurations = new Map<string, Entry>();
const keySets = new Map<string, JWTVerifyGetKey>();

const unavailable = (row: IdentityProviderRow): ApiError =>
  new ApiError("UNAVAILABLE", `identity provider "${row.id}" (${row.issuer_url}) did not answer OIDC discovery; try again later`);

/** Plain http is accepted only for an issuer on a loopback host (development and tests). */
function insecureAllowed(issuerUrl: string): boolean {
  const url = new URL(issuerUrl);
  return url.protocol === "http:" && isLoopbackHost(url.hostname);
}

async function discover(deps: SignInDeps, row: IdentityProviderRow): Promise<client.Configuration> {
  const secret = clientSecretOf(deps, row);
  const execute = insecureAllowed(row.issuer_url) ? [client.allowInsecureRequests] : [];
  let found: client.Configuration;
  try {
    found = await client.discovery(new URL(row.issuer_url), row.client_id, undefined, client.None(), { execute, timeout: 10 });
  } catch {
    throw unavailable(row);
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
  for (const step of execute) step(config);
  // Verify the ID token's signature too, not only its claims (defence in depth beyond TLS).
  client.enableNonRepudiationChecks(config);
  return config;
}

/** The discovered client configuration of an identity provider (UNAVAILABLE when the issuer does not answer). */
export async function oidcConfiguration(deps: SignInDeps, row: IdentityProviderRow): Promise<client.Configuration> {
  const key = `${row.account_id}/${row.id}@${row.update_time}`;
  const now = Date.now();
  const hit = configurations.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.config;
  if (configurations.size >= MAX_ENTRIES) configurations.clear();
  const config = discover(deps, row);
  configurations.set(key, { at: now, config });
  // A failed discovery is not cached: the next attempt asks again.
  config.catch(() => configurations.delete(key));
  return config;
}

/** The issuer's signing keys, for verifying bearer ID tokens. */
export async function issuerKeys(deps: SignInDeps, row: IdentityProviderRow): Promise<JWTVerifyGetKey> {
  const metadata = (await oidcConfiguration(deps, row)).serverMetadata();
  if (!metadata.jwks_uri) throw unavailable(row);
  let keys = keySets.get(metadata.jwks_uri);
  if (!keys) {
    if (keySets.size >= MAX_ENTRIES) keySets.clear();
    keys = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5000 });
    keySets.set(metadata.jwks_uri, keys);
  }
  return keys;
}
