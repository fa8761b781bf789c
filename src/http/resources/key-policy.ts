/**
 * @module The KeyPolicy resource: an account's rules for the lifetime of its API keys.
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** `accounts/{accountId}/keyPolicy`, a singleton (AIP-156); set by an admin, read by every role. */
export const keyPolicy = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/keyPolicy"] }),
    /** Absent: keys may live for ever. A protobuf Duration, e.g. `7776000s` (90 days). */
    maxKeyLifetime: z.string().optional(),
    /** Absent: a key created without `expireTime` does not expire (unless the policy requires one). */
    defaultKeyLifetime: z.string().optional(),
    /** A human user's key must expire (an `expireTime`, or the default lifetime); service accounts' keys may not. */
    requireExpiryForHumanKeys: z.boolean(),
    /** Absent: the policy was never changed. */
    updateTime: timestamp.optional(),
  })
  .meta({ id: "KeyPolicy" });
export type KeyPolicy = z.output<typeof keyPolicy>;
