/**
 * @module The IdentityProvider resource as the API returns it (its client secret is write-only).
 */
import { z } from "zod";
import { listPage, status, timestamp } from "./common.ts";

/** An OIDC identity provider of an account (`accounts/{accountId}/identityProviders/{id}`). */
export const identityProvider = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/identityProviders/corp-sso"] }),
    displayName: z.string(),
    oidcConfig: z.object({ issuerUrl: z.string(), clientId: z.string() }),
    tenantDomains: z.array(z.string()),
    enableJitUserProvisioning: z.boolean(),
    jitDefaultRole: z.string(),
    enforceSso: z.boolean(),
    /** Accept a token without `email_verified` as verified (default false: only `true` is accepted). */
    trustEmailWithoutVerifiedClaim: z.boolean(),
    /** DISABLED: another account holds its issuer and client id; it refuses sign-in until the operator settles ownership. */
    state: z.enum(["READY", "DISABLED"]),
    /**
     * Fireworks' `IdentityProvider.status` (python-sdk gateway_identity_provider.py): OK when READY;
     * FAILED_PRECONDITION saying why when DISABLED.
     */
    status,
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "IdentityProvider" });
export type IdentityProvider = z.output<typeof identityProvider>;

/** Every provider of the account, on one page. */
export const identityProviderList = listPage("identityProviders", identityProvider).meta({ id: "ListIdentityProvidersResponse" });
