import { z } from "zod";
import * as idps from "../../service/identity-providers.ts";
import type { Router } from "../route.ts";
import { FIELD_RULES } from "../../domain/field-rules.ts";
import { accountParams, displayName, id, listQuery, listRequest, newId, plainText } from "../schemas.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { identityProvider, identityProviderList } from "../resources/identity-provider.ts";

const idpParams = accountParams.extend({ identityProviderId: example(id("identity provider id"), "corp-sso") });

const oidcConfig = z.object({
  issuerUrl: plainText()
    .meta({ ...FIELD_RULES.issuerUrl.schema })
    .optional(),
  clientId: plainText().optional(),
  /**
   * Write-only: stored sealed, never returned. RFC 6749 (Appendix A.2) spells a client secret in
   * printable ASCII; another character (a lone surrogate cannot even be stored as sent) could only
   * fail every sign-in later.
   */
  clientSecret: z
    .string()
    .regex(/^[\x20-\x7e]*$/, "must be printable ASCII characters (RFC 6749, Appendix A.2)")
    .optional(),
});

const body = z.object({
  displayName: displayName().optional(),
  oidcConfig: oidcConfig.optional(),
  tenantDomains: z.array(z.string()).optional(),
  enableJitUserProvisioning: z.boolean().optional(),
  jitDefaultRole: z.string().optional(),
  enforceSso: z.boolean().optional(),
  /** Accept a token without `email_verified` as verified (default false: only `true` is accepted). */
  trustEmailWithoutVerifiedClaim: z.boolean().optional(),
});

const updateBody = body.extend({ updateMask: z.string().optional() });

/**
 * `updateMask` (AIP-134). Cleared: the display name becomes the provider's id, the role
 * inference-user, the flags false, the domains none; the issuer and client id are required. The
 * write-only client secret is removed only when the mask names `oidcConfig.clientSecret` itself:
 * a client that sends back what it read (`*`, `oidcConfig`) never had it.
 */
const IDP_UPDATE: UpdateMaskSpec = {
  updatable: {
    displayName: { clear: "" },
    "oidcConfig.issuerUrl": "required",
    "oidcConfig.clientId": "required",
    "oidcConfig.clientSecret": { clear: "", writeOnly: true },
    tenantDomains: { clear: [] },
    enableJitUserProvisioning: { clear: false },
    jitDefaultRole: { clear: "" },
    enforceSso: { clear: false },
    trustEmailWithoutVerifiedClaim: { clear: false },
  },
  fields: fieldNames<idps.IdentityProvider>()({
    name: true,
    displayName: true,
    oidcConfig: true,
    tenantDomains: true,
    enableJitUserProvisioning: true,
    jitDefaultRole: true,
    enforceSso: true,
    trustEmailWithoutVerifiedClaim: true,
    state: true,
    status: true,
    createTime: true,
    updateTime: true,
  }),
};

/** Identity providers of an account (admin-only changes; the client secret is write-only). */
export function identityProviderRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/identityProviders",
    operationId: "ListIdentityProviders",
    actions: ["identityProviders.list"],
    summary: "List the account's OIDC identity providers (client secrets are never returned)",
    tag: "Sign-in",
    response: identityProviderList,
    params: accountParams,
    query: listQuery(100, { readMask: IDP_UPDATE.fields }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await idps.listIdentityProviders(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, identityProviders: applyReadMask(page.identityProviders, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/identityProviders",
    operationId: "CreateIdentityProvider",
    actions: ["identityProviders.create"],
    summary: "Add an OIDC identity provider (admin); the client secret is stored sealed and never returned",
    tag: "Sign-in",
    response: identityProvider,
    params: accountParams,
    query: z.object({ identityProviderId: example(newId("identityProviderId"), "corp-sso").optional() }),
    body: example(body, {
      displayName: "Corp SSO",
      oidcConfig: { issuerUrl: "https://login.example.com", clientId: "hearth", clientSecret: "client-secret-from-the-provider" },
      tenantDomains: ["example.com"],
      enableJitUserProvisioning: true,
      jitDefaultRole: "inference-user",
    }),
    handler: ({ deps, ctx, params, query, body: b }) => idps.createIdentityProvider(deps, ctx, params.accountId, query.identityProviderId, b),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "GetIdentityProvider",
    actions: ["identityProviders.get"],
    summary: "Get an identity provider",
    tag: "Sign-in",
    response: identityProvider,
    params: idpParams,
    // Fireworks' SDK sends `readMask` here too (fireworks_ai `IdentityProviderRetrieveParams.read_mask`).
    query: readMaskQuery(IDP_UPDATE.fields),
    handler: async ({ deps, ctx, params, query }) =>
      applyReadMaskTo(await idps.getIdentityProvider(deps, ctx, params.accountId, params.identityProviderId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "UpdateIdentityProvider",
    actions: ["identityProviders.update"],
    summary: "Update an identity provider (admin); honours updateMask; an empty clientSecret removes it",
    tag: "Sign-in",
    response: identityProvider,
    params: idpParams,
    query: updateMaskQuery,
    body: example(updateBody, { displayName: "Corp SSO (Europe)" }),
    handler: ({ deps, ctx, params, query, body: b }) =>
      idps.updateIdentityProvider(
        deps,
        ctx,
        params.accountId,
        params.identityProviderId,
        applyUpdateMask(IDP_UPDATE, b, updateMaskOf(query.updateMask, b.updateMask)),
      ),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/identityProviders/{identityProviderId}",
    operationId: "DeleteIdentityProvider",
    actions: ["identityProviders.delete"],
    summary: "Delete an identity provider (admin); sessions begun through it end",
    tag: "Sign-in",
    response: empty,
    params: idpParams,
    handler: async ({ deps, ctx, params }) => {
      await idps.deleteIdentityProvider(deps, ctx, params.accountId, params.identityProviderId);
      return {};
    },
  });
}
