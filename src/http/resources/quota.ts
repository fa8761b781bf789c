/**
 * @module The Quota resource as the API returns it.
 */
import { z } from "zod";
import { listPage, timestamp } from "./common.ts";

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

/** A page of the account's quotas (AIP-158), by name. */
export const quotaList = listPage("quotas", quota).meta({ id: "ListQuotasResponse" });
