/**
 * @module The ApiKey resource as the API returns it (never its secret, except once on create).
 */
import { z } from "zod";
import { listPage, timestamp } from "./common.ts";
import { DISABLE_REASONS } from "../../domain/api-key-state.ts";

/** An API key's metadata (`accounts/{accountId}/users/{userId}/apiKeys/{keyId}`). */
export const apiKey = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/users/ci-bot/apiKeys/k-4f2a9c1e"] }),
    keyId: z.string(),
    displayName: z.string(),
    /** The secret, in the create response only. */
    key: z.string().optional(),
    /** The key's first characters, to recognise it. */
    prefix: z.string(),
    /** The owner's email. */
    email: z.string(),
    createTime: timestamp,
    /** Absent: the key does not expire. */
    expireTime: timestamp.optional(),
    /** Absent: never used. */
    lastUsed: timestamp.optional(),
    /** The client address of the newest use (after HEARTH_TRUST_PROXY); absent: never used. */
    lastUsedIp: z.string().optional(),
    /** The User-Agent of the newest use (at most 256 characters); absent: never used or none sent. */
    lastUsedUserAgent: z.string().optional(),
    /** `DISABLED`: refused until enabled again (`:enable`). */
    state: z.enum(["ENABLED", "DISABLED"]),
    /** Why the key was disabled; present only while `state` is `DISABLED`. */
    disableReason: z.enum(DISABLE_REASONS).optional(),
    /** Action names the key may take (its permissions are these ∩ its owner's current role); absent: its owner's role. */
    scopes: z.array(z.string()).optional(),
    /** Models and deployments the key may call (names, or `accounts/x/models/*` patterns); absent: any its owner may. */
    allowedModels: z.array(z.string()).optional(),
    /** IPv4/IPv6 networks the key may be used from; absent: anywhere. */
    allowedCidrs: z.array(z.string()).optional(),
    /** Requests per minute of this key, inside the account's quotas; absent: only the account's. */
    rpm: z.number().int().optional(),
    /** Tokens per minute of this key, inside the account's quotas; absent: only the account's. */
    tpm: z.number().int().optional(),
    /** Spend per calendar month of this key, US dollars, inside the account's; absent: only the account's. */
    monthlySpendUsd: z.number().optional(),
    secure: z.literal(true),
    /** Fireworks' key annotations, as given at creation (they are never changed afterwards). */
    annotations: z.record(z.string(), z.string()),
  })
  .meta({ id: "ApiKey" });
export type ApiKey = z.output<typeof apiKey>;

export const apiKeyList = listPage("apiKeys", apiKey).meta({ id: "ListApiKeysResponse" });

/** `GET /verifyApiKey`: who a valid key acts as. */
export const verifiedKey = z
  .object({
    accountId: z.string(),
    userId: z.string(),
    email: z.string(),
    role: z.string(),
    serviceAccount: z.boolean(),
    keyId: z.string(),
  })
  .meta({ id: "VerifyApiKeyResponse" });
export type VerifiedKey = z.output<typeof verifiedKey>;
