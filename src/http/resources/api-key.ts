/**
 * @module The ApiKey resource as the API returns it (never its secret, except once on create).
 */
import { z } from "zod";
import { listPage, timestamp } from "./common.ts";

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
    secure: z.literal(true),
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
