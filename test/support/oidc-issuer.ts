import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import Provider from "oidc-provider";
import type { Dialect } from "../../src/store/store.ts";
import { startHearth, type TestHearth } from "./hearth.ts";
import { callbackPath } from "../../src/http/routes/sign-in.ts";
import { sealRefresh } from "../../src/service/cli-sign-in.ts";

/**
 * A real OpenID Provider (the `oidc-provider` package) on loopback, for sign-in tests. Any login
 * is accepted at its development login page; the login is the user's email (`email_verified` is
 * false for logins starting with "unverified"). The test also holds the signing key, to mint
 * tokens the provider would never issue (expired, wrong audience, tampered).
 */
export interface TestIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Signs an ID token with the issuer's own key; `claims` override the defaults. */
  mint(claims: Record<string, unknown>): Promise<string>;
  /** How many requests the issuer's token endpoint has received (code and refresh grants alike). */
  tokenRequests(): number;
  /** How many tokens the issuer's revocation endpoint (RFC 7009) has been asked to revoke. */
  revocations(): number;
  close(): Promise<void>;
}

export const TEST_CLIENT_REDIRECT = "http://127.0.0.1:9/test-client/callback";

/**
 * A refresh token as Hearth hands firectl one (the provider's `refreshToken` sealed for provider
 * `identityProviderId` of `accountId`, for user `userId`, signed in now): for tests of what happens
 * when the provider does not know it.
 */
export function sealedRefreshToken(h: TestHearth, userId: string, refreshToken: string, accountId = "my-account", identityProviderId = "corp"): string {
  return sealRefresh(h.deps, accountId, identityProviderId, { refreshToken, userId, signInTime: Date.now() });
}

/** Hearth's redirect URI for identity provider `identityProviderId` of `accountId` at `h`: each provider has its own. */
export const hearthCallback = (h: { baseUrl: string }, accountId = "my-account", identityProviderId = "corp"): string =>
  `${h.baseUrl}${callbackPath(accountId, identityProviderId)}`;

/** Whether `u` is one of Hearth's OIDC redirect URIs at `h`: where a browser following a sign-in stops. */
export const isHearthCallback =
  (h: { baseUrl: string }) =>
  (u: URL): boolean =>
    u.origin === h.baseUrl && u.pathname.startsWith("/auth/oidc/callback/");

/** `tls`: serve over https with this key and certificate (PEM), for tests where Hearth must not use plain http. */
export async function startIssuer(options: {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  tls?: { key: string; cert: string };
  /** Like the many providers that do not implement RFC 9207: no `iss` in the authorization response, nor in discovery. */
  withoutIssParameter?: boolean;
}): Promise<TestIssuer> {
  const clientId = options.clientId ?? "hearth-console";
  const clientSecret = options.clientSecret ?? "issuer-client-secret-3f9a1c77e2";
  const server = options.tls ? createTlsServer(options.tls) : createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const issuer = `${options.tls ? "https" : "http"}://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = "test-key-1";
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [...options.redirectUris, TEST_CLIENT_REDIRECT],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ["oidc-test-cookie-key"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    // Put the email in the ID token itself, as most enterprise IdPs do.
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub, email_verified: !sub.startsWith("unverified") }),
    }),
    features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  });
  let tokenRequests = 0;
  let revocations = 0;
  const handle = provider.callback();
  server.on("request", (req, res) => {
    if (req.method === "POST" && req.url?.split("?")[0] === "/token") tokenRequests++;
    if (req.method === "POST" && req.url?.split("?")[0] === "/token/revocation") revocations++;
    if (options.withoutIssParameter) withoutIss(req.url ?? "", res);
    return handle(req, res);
  });
  return {
    issuer,
    clientId,
    clientSecret,
    mint: (claims) => mint(privateKey, kid, { iss: issuer, aud: clientId, ...claims }),
    tokenRequests: () => tokenRequests,
    revocations: () => revocations,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}

/**
 * What `POST /v1/accounts/{account}/identityProviders` gets besides the issuer's own URL and client id. `clientType`
 * (OAuth 2.0, RFC 6749 §2.1; default "confidential") says whether the issuer's client secret is sent too.
 */
export interface IdentityProviderFields {
  tenantDomains: string[];
  displayName?: string;
  enableJitUserProvisioning?: boolean;
  clientType?: "confidential" | "public";
}

/**
 * Registers `issuer` (its URL, client id and, for a confidential client, client secret; plus `fields`) through the HTTP API as identity provider
 * `options.identityProviderId` (default "corp") of account `options.accountId` (default "my-account"), with `options.key`
 * (default the first admin's); asserts 200 and returns the created identity provider.
 */
export async function createIdentityProvider(
  h: TestHearth,
  issuer: TestIssuer,
  fields: IdentityProviderFields,
  options: { accountId?: string; identityProviderId?: string; key?: string } = {},
): Promise<any> {
  const { displayName, clientType = "confidential", ...rest } = fields;
  const created = await h.call(
    "POST",
    `/v1/accounts/${options.accountId ?? "my-account"}/identityProviders?identityProviderId=${options.identityProviderId ?? "corp"}`,
    {
      ...(options.key === undefined ? {} : { key: options.key }),
      body: {
        ...(displayName === undefined ? {} : { displayName }),
        oidcConfig: {
          issuerUrl: issuer.issuer,
          clientId: issuer.clientId,
          ...(clientType === "confidential" ? { clientSecret: issuer.clientSecret } : {}),
        },
        ...rest,
      },
    },
  );
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return created.body;
}

/**
 * A listening test Hearth of `dialect` (with `env`) and a test issuer that redirects back to it, registered as identity
 * provider "corp" of account "my-account" (see `createIdentityProvider`). The issuer listens on loopback: the operator
 * switch HEARTH_ALLOW_PRIVATE_NETWORKS lets Hearth reach it. The caller stops both.
 */
export async function startHearthWithIdentityProvider(
  dialect: Dialect,
  fields: IdentityProviderFields,
  env: Record<string, string> = {},
): Promise<{ h: TestHearth; issuer: TestIssuer; provider: any }> {
  const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", ...env });
  await h.listen();
  const issuer = await startIssuer({ redirectUris: [hearthCallback(h)] });
  return { h, issuer, provider: await createIdentityProvider(h, issuer, fields) };
}

/** Rewrites `res` as a provider without RFC 9207 would write it: `iss` dropped from redirects and from discovery. */
function withoutIss(url: string, res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    const lower = name.toLowerCase();
    if (lower === "content-length" && url.startsWith("/.well-known/")) return res;
    if (lower === "location" && typeof value === "string" && value.includes("iss=")) {
      const to = new URL(value);
      to.searchParams.delete("iss");
      return setHeader(name, to.href);
    }
    return setHeader(name, value);
  };
  if (!url.startsWith("/.well-known/openid-configuration")) return;
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (chunk === undefined || chunk === null) return end(chunk);
    const doc = JSON.parse(String(chunk)) as Record<string, unknown>;
    delete doc.authorization_response_iss_parameter_supported;
    return end(JSON.stringify(doc));
  }) as typeof res.end;
}

async function mint(key: CryptoKey, kid: string, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(key);
}

/**
 * The discovery document (OpenID Connect Discovery 1.0 §3) of a hand-made test provider at `issuer`:
 * its endpoints under the issuer's own path, with `overrides` (e.g. a `jwks_uri` elsewhere).
 */
export function discoveryDocument(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/keys`,
    response_types_supported: ["code"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    ...overrides,
  };
}
