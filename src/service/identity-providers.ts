/**
 * @module Identity providers (docs/sign-in.md): OIDC issuers for human sign-in.
 */
import { issuerKey } from "../domain/issuer-identifier.ts";
import { randomBytes } from "node:crypto";
import { alreadyExists, invalidArgument, notFound } from "../domain/errors.ts";
import { checkId } from "../domain/ids.ts";
import { checkDisplayName, checkField, FIELD_RULES } from "../domain/field-rules.ts";
import { collectionName, identityProviderName } from "../domain/resource-names.ts";
import { open, seal } from "../domain/secret-box.ts";
import { formatTimestamp } from "../domain/time.ts";
import { deleteProviderBindings } from "../store/identity-bindings.ts";
import * as idps from "../store/identity-providers.ts";
import { lockAccount } from "../store/accounts.ts";
import { deleteSessionsVia } from "../store/sessions.ts";
import type { IdentityProviderRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { checkOutboundTarget } from "./outbound-fetch.ts";
import { authorize, requireHoldsEvery } from "./permissions.ts";
import { createWithinQuota } from "./quotas.ts";
import type { ListRequest } from "../store/list.ts";
import { serverKey } from "./server-key.ts";
import { checkRole } from "./users.ts";
import type { IdentityProvider } from "../http/resources/identity-provider.ts";

export interface IdentityProviderInput {
  displayName?: string | undefined;
  oidcConfig?: { issuerUrl?: string | undefined; clientId?: string | undefined; clientSecret?: string | undefined } | undefined;
  tenantDomains?: string[] | undefined;
  enableJitUserProvisioning?: boolean | undefined;
  jitDefaultRole?: string | undefined;
  enforceSso?: boolean | undefined;
  trustEmailWithoutVerifiedClaim?: boolean | undefined;
}

/** The API shape, declared once as the response schema of `/openapi.json`. The client secret is write-only: it is never part of a response. */
export type { IdentityProvider };

/** Why a DISABLED provider refuses sign-in (its `status.message`). */
const DISABLED_MESSAGE = "another account holds this issuer and client id: sign-in is refused until the operator releases the pair to this account";

function identityProviderView(row: IdentityProviderRow): IdentityProvider {
  return {
    name: identityProviderName(row.account_id, row.id),
    displayName: row.display_name,
    oidcConfig: { issuerUrl: row.issuer_url, clientId: row.client_id },
    tenantDomains: JSON.parse(row.tenant_domains) as string[],
    enableJitUserProvisioning: row.enable_jit === 1,
    jitDefaultRole: row.jit_default_role,
    enforceSso: row.enforce_sso === 1,
    trustEmailWithoutVerifiedClaim: row.trust_email_without_verified_claim === 1,
    state: row.state === "DISABLED" ? "DISABLED" : "READY",
    status: row.state === "DISABLED" ? { code: "FAILED_PRECONDITION", message: DISABLED_MESSAGE } : { code: "OK", message: "" },
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/** Why setting who a provider admits is an admin's act (docs/roles.md, the escalation rule). */
const ADMITS_ANYONE = "a provider signs in as any human of the account its tenant domains admit, admins included, and creates users with its jitDefaultRole";

/**
 * Who a provider admits (its issuer and client, tenant domains, email trust and JIT provisioning)
 * is set only by a principal holding every action: otherwise a custom role holding
 * `identityProviders.update` or `.create` could point a provider at an issuer it controls, or give
 * new users role admin, and sign in as an admin.
 * @throws PERMISSION_DENIED (see `requireHoldsEvery`).
 */
function requireMayAdmit(ctx: Ctx, id: string): void {
  requireHoldsEvery(ctx, `set who identity provider "${id}" signs in`, ADMITS_ANYONE);
}

const sealContext = (accountId: string, id: string): string => `identity-provider:${accountId}/${id}`;

/** The client secret of a provider, opened with the server key (undefined for a public client). */
export function clientSecretOf(deps: Pick<Deps, "config">, row: IdentityProviderRow): string | undefined {
  if (row.client_secret === null) return undefined;
  const secret = open(serverKey(deps.config), row.client_secret, sealContext(row.account_id, row.id));
  if (secret === undefined) {
    throw new Error(`the client secret of ${identityProviderName(row.account_id, row.id)} does not open with this server's key (HEARTH_SECRET_KEY differs?)`);
  }
  return secret;
}

/** The refusal of a new `issuerUrl` sent without the client secret that goes with it. */
const secretStaysWithIssuer = (issuerUrl: string) =>
  invalidArgument(
    `oidcConfig.clientSecret must be sent with a new oidcConfig.issuerUrl (or "" for a public client): the stored secret was given for ${issuerUrl} and is never sent to another issuer`,
  );

function checkClientId(value: string): string {
  if (!value.trim() || value.length > 255) throw invalidArgument("oidcConfig.clientId is required (at most 255 characters)");
  return value;
}

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

function checkTenantDomains(values: string[]): string[] {
  if (values.length > 50) throw invalidArgument("at most 50 tenantDomains");
  const domains = values.map((v) => v.trim().toLowerCase());
  for (const d of domains) {
    if (d.length > 253 || !DOMAIN.test(d)) throw invalidArgument(`invalid tenant domain ${JSON.stringify(d)}`);
  }
  return [...new Set(domains)];
}

function checkClientSecret(value: string): string {
  if (value.length > 1024) throw invalidArgument("oidcConfig.clientSecret is longer than 1024 characters");
  return value;
}

/** The audit payload: the request with the client secret replaced by whether one was given. */
function auditPayload(input: IdentityProviderInput): unknown {
  const { oidcConfig, ...rest } = input;
  if (!oidcConfig) return rest;
  const { clientSecret, ...config } = oidcConfig;
  return { ...rest, oidcConfig: { ...config, ...(clientSecret !== undefined ? { clientSecret: "[REDACTED]" } : {}) } };
}

/**
 * Refuses an (issuer, client id) pair another READY provider holds. Only the fact that the pair is
 * taken is revealed, never which account holds it (issue 13: no cloning another tenant's provider).
 * The unique index `identity_providers_client` enforces the same against races.
 */
async function checkPairFree(db: Db, accountId: string, id: string, issuerUrl: string, clientId: string): Promise<void> {
  const holder = await idps.providerHoldingPair(db, issuerUrl, clientId);
  if (!holder || (holder.account_id === accountId && holder.id === id)) return;
  if (holder.account_id === accountId) {
    throw alreadyExists(`identity provider "${holder.id}" of this account already uses this issuer and client id; update or delete it instead`);
  }
  throw alreadyExists(idps.PAIR_TAKEN);
}

async function getRow(db: Db, accountId: string, id: string): Promise<IdentityProviderRow> {
  const row = await idps.getIdentityProvider(db, accountId, id);
  if (!row) throw notFound(`identity provider "${id}" not found`);
  return row;
}

export async function createIdentityProvider(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  requestedId: string | undefined,
  input: IdentityProviderInput,
): Promise<IdentityProvider> {
  const id = requestedId ?? `idp-${randomBytes(4).toString("hex")}`;
  const op = { method: "CreateIdentityProvider", resource: identityProviderName(accountId, id), payload: auditPayload(input) };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "identityProviders.create");
    requireMayAdmit(ctx, id);
    checkId(id, "identityProviderId");
    // A private address is named as such before any spelling is judged.
    checkOutboundTarget(deps, "oidcConfig.issuerUrl", input.oidcConfig?.issuerUrl ?? "");
    const issuerUrl = checkField(FIELD_RULES.issuerUrl, "oidcConfig.issuerUrl", input.oidcConfig?.issuerUrl ?? "");
    const clientId = checkClientId(input.oidcConfig?.clientId ?? "");
    const secret = input.oidcConfig?.clientSecret ? checkClientSecret(input.oidcConfig.clientSecret) : undefined;
    const now = Date.now();
    const row: IdentityProviderRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName?.trim() || id),
      issuer_url: issuerUrl,
      issuer_key: issuerKey(issuerUrl),
      client_id: clientId,
      client_secret: secret === undefined ? null : seal(serverKey(deps.config), secret, sealContext(accountId, id)),
      tenant_domains: JSON.stringify(checkTenantDomains(input.tenantDomains ?? [])),
      enable_jit: input.enableJitUserProvisioning ? 1 : 0,
      jit_default_role: checkRole(input.jitDefaultRole ?? "inference-user"),
      enforce_sso: input.enforceSso ? 1 : 0,
      trust_email_without_verified_claim: input.trustEmailWithoutVerifiedClaim ? 1 : 0,
      state: "READY",
      create_time: now,
      update_time: now,
    };
    await checkPairFree(trx, accountId, id, issuerUrl, clientId);
    await createWithinQuota(deps, trx, accountId, "identity-providers", () => idps.insertIdentityProvider(trx, row));
    return identityProviderView(row);
  });
}

/** ListIdentityProviders: one page (AIP-158) of the account's providers matching `req.filter` (AIP-160), as Fireworks' list takes it. */
export async function listIdentityProviders(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListIdentityProviders", resource: collectionName(accountId, "identityProviders") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "identityProviders.list");
    const page = await idps.listIdentityProviderPage(deps.store.db, accountId, req);
    return { identityProviders: page.rows.map(identityProviderView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

export async function getIdentityProvider(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<IdentityProvider> {
  const op = { method: "GetIdentityProvider", resource: identityProviderName(accountId, id) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "identityProviders.get");
    return identityProviderView(await getRow(deps.store.db, accountId, id));
  });
}

/**
 * Changes the fields present in `input`; an empty `clientSecret` removes the secret. A new
 * `issuerUrl` needs `clientSecret` too when the provider holds one (the secret is never sent to
 * another issuer than the one it was given for).
 */
export async function updateIdentityProvider(deps: Deps, ctx: Ctx, accountId: string, id: string, input: IdentityProviderInput): Promise<IdentityProvider> {
  const op = { method: "UpdateIdentityProvider", resource: identityProviderName(accountId, id), payload: auditPayload(input) };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "identityProviders.update");
    // Locked before the row is read (as a create reserving quota locks): a concurrent deletion is then a 404, never a success that changed nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await getRow(trx, accountId, id);
    const patch: idps.IdentityProviderPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName.trim() || id);
    const config = input.oidcConfig;
    if (config?.issuerUrl !== undefined) {
      checkOutboundTarget(deps, "oidcConfig.issuerUrl", config.issuerUrl);
      patch.issuer_url = checkField(FIELD_RULES.issuerUrl, "oidcConfig.issuerUrl", config.issuerUrl);
      patch.issuer_key = issuerKey(patch.issuer_url);
    }
    if (config?.clientId !== undefined) patch.client_id = checkClientId(config.clientId);
    if (config?.clientSecret !== undefined) {
      patch.client_secret =
        config.clientSecret === "" ? null : seal(serverKey(deps.config), checkClientSecret(config.clientSecret), sealContext(accountId, id));
    }
    if (input.tenantDomains !== undefined) patch.tenant_domains = JSON.stringify(checkTenantDomains(input.tenantDomains));
    if (input.enableJitUserProvisioning !== undefined) patch.enable_jit = input.enableJitUserProvisioning ? 1 : 0;
    if (input.jitDefaultRole !== undefined) patch.jit_default_role = checkRole(input.jitDefaultRole || "inference-user");
    if (input.enforceSso !== undefined) patch.enforce_sso = input.enforceSso ? 1 : 0;
    if (input.trustEmailWithoutVerifiedClaim !== undefined) patch.trust_email_without_verified_claim = input.trustEmailWithoutVerifiedClaim ? 1 : 0;
    const issuerUrl = patch.issuer_url ?? row.issuer_url;
    const clientId = patch.client_id ?? row.client_id;
    const newPair = issuerUrl !== row.issuer_url || clientId !== row.client_id;
    // A PATCH sending back the provider it read, unchanged, needs nothing more than identityProviders.update.
    const admits = ["tenant_domains", "enable_jit", "jit_default_role", "trust_email_without_verified_claim"] as const;
    if (newPair || admits.some((field) => patch[field] !== undefined && patch[field] !== row[field])) requireMayAdmit(ctx, id);
    // The stored secret was given for its issuer: kept across a move, the next sign-in would send it to
    // the new issuer's token endpoint, so whoever may change the URL could read a write-only secret.
    if (issuerUrl !== row.issuer_url && row.client_secret !== null && config?.clientSecret === undefined) throw secretStaysWithIssuer(row.issuer_url);
    if (newPair && row.state === "READY") await checkPairFree(trx, accountId, id, issuerUrl, clientId);
    patch.update_time = Date.now();
    await idps.updateIdentityProvider(trx, accountId, id, patch);
    // Another issuer or client: its subjects are another namespace, so humans are bound afresh.
    if (newPair) await deleteProviderBindings(trx, accountId, id);
    return identityProviderView({ ...row, ...patch });
  });
}

/**
 * Deletes a provider; the sessions that began through it, and its bindings, end with it. That
 * signs out and unbinds everyone who signs in through it, admins included, so, like changing who
 * it signs in, it needs every action (a custom role may not unbind or sign out an admin directly).
 */
export async function deleteIdentityProvider(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<void> {
  const op = { method: "DeleteIdentityProvider", resource: identityProviderName(accountId, id) };
  await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "identityProviders.delete");
    requireHoldsEvery(ctx, `delete identity provider "${id}"`, "it signs out and unbinds everyone who signs in through it, admins included");
    await lockAccount(deps.store, trx, accountId);
    await getRow(trx, accountId, id);
    await idps.deleteIdentityProvider(trx, accountId, id);
    await deleteSessionsVia(trx, accountId, `oidc:${id}`);
    await deleteProviderBindings(trx, accountId, id);
  });
}
