/**
 * @module The Quota resource as the API returns it.
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** A quota with its usage (`accounts/{accountId}/quotas/{quotaId}`); values are decimal strings (int64 in protobuf JSON). */
export const quota = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/quotas/api-keys-per-user"] }),
    value: z.string().meta({ examples: ["10"] }),
    maxValue: z.string().meta({ examples: ["10"] }),
    usage: z.number(),
    updateTime: timestamp,
  })
  .meta({ id: "Quota" });
export type Quota = z.output<typeof quota>;

/** Every quota of the account, on one page. */
export const quotaList = z
  .object({ quotas: z.array(quota), nextPageToken: z.literal(""), totalSize: z.number().int().min(0) })
  .meta({ id: "ListQuotasResponse" });
