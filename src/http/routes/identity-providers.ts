import { z } from "zod";
import { invalidArgument } from "../../domain/errors.ts";
import * as idps from "../../service/identity-providers.ts";
import type { Router } from "../route.ts";
import { accountParams, id, plainText } from "../schemas.ts";

const idpParams = accountParams.extend({ identityProviderId: id("identity provider id") });

const oidcConfig = z.object({
  issuerUrl: plainText().optional(),
  clientId: z.string().optional(),
  /** Write-only: stored sealed, never returned. */
  clientSecret: z.string().optional(),
});

const body = z.object({
  displayName: plainText().optional(),
  oidcConfig: oidcConfig.optional(),
  tenantDomains: z.array(z.string()).optional(),
  enableJitUserProvisioning: z.boolean().optional(),
  jitDefaultRole: z.string().optional(),
  enforceSso: z.boolean().optional(),
  /** Accept a token without `email_verified` as verified (default false: only `true` is accepted). */
  trustEmailWithoutVerifiedClaim: z.boolean().optional(),
});

const updateBody = body.extend({ updateMask: z.string().optional() });

type Body = z.output<typeof body>;

/** Update-mask paths, in every spelling a mask may use, and how each is taken from the body. */
const MASK: Readonly<Record<string, (b: Body, into: idps.IdentityProviderInput) => void>> = (() => {
  const cfg = (into: idps.IdentityProviderInput) => (into.oidcConfig ??= {});
  const fields: Array<[string[], (b: Body, into: idps.IdentityProviderInput) => void]> = [
    [["displayName", "display_name"], (b, i) => (i.displayName = b.displayName ?? "")],
    [["oidcConfig", "oidc_config"], (b, i) => (i.oidcConfig = { ...b.oidcConfig })],
    [["oidcConfig.issuerUrl", "oidc_config.issuer_url"], (b, i) => (cfg(i).issuerUrl = b.oidcConfig?.issuerUrl ?? "")],
    [["oidcConfig.clientId", "oidc_config.client_id"], (b, i) => (cfg(i).clientId = b.oidcConfig?.clientId ?? "")],
    [["oidcConfig.clientSecret", "oidc_config.client_secret"], (b, i) => (cfg(i).clientSecret = b.oidcConfig?.clientSecret ?? "")],
    [["tenantDomains", "tenant_domains"], (b, i) => (i.tenantDomains = b.tenantDomains ?? [])],
    [["enableJitUserProvisioning", "enable_jit_user_provisioning"], (b, i) => (i.enableJitUserProvisioning = b.enableJitUserProvisioning ?? false)],
    [["jitDefaultRole", "jit_default_role"], (b, i) => (i.jitDefaultRole = b.jitDefaultRole ?? "")],
    [["enforceSso", "enforce_sso"], (b, i) => (i.enforceSso = b.enforceSso ?? false)],
    [
      ["trustEmailWithoutVerifiedClaim", "trust_email_without_verified_claim"],
      (b, i) => (i.trustEmailWithoutVerifiedClaim = b.trustEmailWithoutVerifiedClaim ?? false),
    ],
  ];
  return Object.fromEntries(fields.flatMap(([names, take]) => names.map((n) => [n, take])));
})();

/** With `updateMask`, only the named fields change (absent ones are cleared); without it, those present. */
function maskedPatch(b: Body, mask: string | undefined): idps.IdentityProviderInput {
  if (!mask) return b;
  const patch: idps.IdentityProviderInput = {};
  for (const raw of mask.split(",")) {
    const path = raw.trim();
    const take = Object.hasOwn(MASK, path) ? MASK[path] : undefined;
    if (!take) throw invalidArgument(`invalid updateMask: field "${path}" cannot be updated`);
    take(b, patch);
  }
  return patch;
}

/** Identity providers of an account (admin-only changes; the client secret is write-only). */
export function identityProviderRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/identityProviders",
    operationId: "ListIdentityProviders",
    summary: "List the account's OIDC identity providers (client secrets are never returned)",
    tag: "Sign-in",
    params: accountParams,
    handler: ({ deps, ctx, params }) => idps.listIdentityProviders(deps, ctx, params.accountId),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/identityProviders",
    operationId: "CreateIdentityProvider",
    summary: "Add an OIDC identity provider (admin); the client secret is stored sealed and never returned",
    tag: "Sign-in",
    params: accountParams,
    query: z.object({ identityProviderId: z.string().optional() }),
    body,
    handler: ({ deps, ctx, params, query, body: b }) => idps.createIdentityProvider(deps, ctx, params.accountId, query.identityProviderId, b),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "GetIdentityProvider",
    summary: "Get an identity provider",
    tag: "Sign-in",
    params: idpParams,
    handler: ({ deps, ctx, params }) => idps.getIdentityProvider(deps, ctx, params.accountId, params.identityProviderId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "UpdateIdentityProvider",
    summary: "Update an identity provider (admin); honours updateMask; an empty clientSecret removes it",
    tag: "Sign-in",
    params: idpParams,
    query: z.object({ updateMask: z.string().optional() }),
    body: updateBody,
    handler: ({ deps, ctx, params, query, body: b }) => {
      const { updateMask, ...fields } = b;
      return idps.updateIdentityProvider(deps, ctx, params.accountId, params.identityProviderId, maskedPatch(fields, query.updateMask ?? updateMask));
    },
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "DeleteIdentityProvider",
    summary: "Delete an identity provider (admin); sessions begun through it end",
    tag: "Sign-in",
    params: idpParams,
    handler: async ({ deps, ctx, params }) => {
      await idps.deleteIdentityProvider(deps, ctx, params.accountId, params.identityProviderId);
      return {};
    },
  });
}
