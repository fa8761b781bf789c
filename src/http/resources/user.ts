/**
 * @module The User resource (a person or a service account) as the API returns it.
 */
import { z } from "zod";
import { listPage, status, timestamp } from "./common.ts";

/** A user or service account (`accounts/{accountId}/users/{userId}`). */
export const user = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/users/ci-bot"] }),
    /**
     * AIP-148 uid, output only: assigned at creation, never reused. A user re-created under a deleted
     * one's id or email has a new uid, and owns nothing the deleted one created.
     */
    uid: z.string().meta({ examples: ["0b6f1c2e-8d3a-4f5b-9c7e-2a1d4e6f8b90"] }),
    displayName: z.string(),
    serviceAccount: z.boolean(),
    /** A service account's is generated: `{userId}@{accountId}.{HEARTH_SA_DOMAIN}`. */
    email: z.string(),
    role: z.string().meta({ description: "inference-user, contributor, user, admin, or custom (with a permissionPreset)", examples: ["user"] }),
    /** Role `custom` only: the id of the account's permission preset whose actions it holds; empty otherwise. */
    permissionPreset: z.string().meta({ examples: [""] }),
    state: z.string().meta({ examples: ["READY"] }),
    status,
    createTime: timestamp,
    updateTime: timestamp,
    /** Output only, in get and list answers: how many API keys the principal has. */
    apiKeyCount: z.int().min(0).optional(),
    /** Output only, in get and list answers: its newest API key use or browser-session activity; absent when never. */
    lastActiveTime: timestamp.optional(),
  })
  .meta({ id: "User" });
export type User = z.output<typeof user>;

/** A person's binding to an identity provider's subject, made at the first allowed sign-in (read-only). */
const identityBinding = z
  .object({
    identityProvider: z.string().meta({ examples: ["accounts/my-account/identityProviders/corp-sso"] }),
    issuer: z.string(),
    subject: z.string(),
    createTime: timestamp,
  })
  .meta({ id: "IdentityBinding" });
export type IdentityBinding = z.output<typeof identityBinding>;

/** One user as a get returns it: with its identity bindings. */
export const userWithBindings = user.extend({ identityBindings: z.array(identityBinding) }).meta({ id: "UserWithBindings" });
type UserWithBindings = z.output<typeof userWithBindings>;

export const userList = listPage("users", user).meta({ id: "ListUsersResponse" });

/** The answer of `:revokeSessions`: how many browser sessions ended. */
export const revokedSessions = z.object({ revokedSessions: z.number().int().min(0) }).meta({ id: "RevokeSessionsResponse" });
