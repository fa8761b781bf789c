/**
 * @module What the sign-in endpoints return: the session, the public provider list, firectl's credentials.
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** `GET /auth/session`: who is signed in; with a session cookie also its CSRF token and end. */
export const session = z
  .object({
    accountId: z.string(),
    /** The user's resource name. */
    user: z.string(),
    email: z.string(),
    role: z.string(),
    serviceAccount: z.boolean(),
    via: z.enum(["session", "apiKey", "oidcToken"]),
    /** The actions of the public vocabulary this principal holds: its role's, or its permission preset's for role `custom`. */
    actions: z.array(z.string()).meta({ examples: [["users.list", "users.get", "apiKeys.create"]] }),
    /** Send as the x-csrf-token header with every change made through the session. */
    csrfToken: z.string().optional(),
    expireTime: timestamp.optional(),
  })
  .meta({ id: "Session" });
export type Session = z.output<typeof session>;

/** What the sign-in page may show about an identity provider before anyone is signed in. */
const signInProvider = z
  .object({
    id: z.string(),
    displayName: z.string(),
    /** Where a browser starts the OIDC flow (append `?next=/path` to come back to a page). */
    startUrl: z.string().meta({ examples: ["/auth/oidc/my-account/corp-sso/start"] }),
  })
  .meta({ id: "SignInProvider" });
export type SignInProvider = z.output<typeof signInProvider>;

export const signInProviderList = z.object({ accountId: z.string(), identityProviders: z.array(signInProvider) }).meta({ id: "ListSignInProvidersResponse" });

/** What firectl stores and sends: the identity provider's tokens and who they name. */
export const cliCredentials = z
  .object({
    accountId: z.string(),
    identityProviderId: z.string(),
    user: z.string(),
    email: z.string(),
    idToken: z.string(),
    /** Present when the provider issued one; firectl trades it for a new ID token before expiry. */
    refreshToken: z.string().optional(),
    expireTime: timestamp,
  })
  .meta({ id: "CliCredentials" });
export type CliCredentials = z.output<typeof cliCredentials>;

/** `POST /auth/cli/signout`'s answer: the sign-in is ended at Hearth; whether the identity provider also revoked its refresh token (RFC 7009). */
export const cliSignOut = z
  .object({
    revokedAtProvider: z.boolean(),
  })
  .meta({ id: "CliSignOut" });
export type CliSignOut = z.output<typeof cliSignOut>;

/** The account-switch page a browser sees instead of the redirect when it is signed in to another account. */
export const accountSwitchPage = z.string().meta({ description: "An HTML page asking whether to switch accounts" });
