/**
 * @module The billing usage report as the API returns it.
 */
import { z } from "zod";
import { accountUsage } from "./account-usage.ts";
import { timestamp } from "./common.ts";

const tokens = {
  requestCount: z.number().int().min(0),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  totalTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
};

/**
 * Metered inference over whole UTC days [startTime, endTime), by the request's `groupBy` (default
 * model, principal and key; a row carries only the fields it is grouped by), and in total. Asked
 * without `groupBy`, Fireworks' lists too (`serverlessCosts` by day and model): see `accountUsage`.
 */
export const billingUsage = z
  .object({
    startTime: timestamp,
    endTime: timestamp,
    usage: z.array(
      z.object({
        day: z.string().optional().meta({ description: "UTC day, YYYY-MM-DD (when grouped by day)" }),
        model: z.string().optional(),
        principal: z.string().optional(),
        apiKeyId: z.string().optional(),
        ...tokens,
      }),
    ),
    total: z.object(tokens),
    ...accountUsage.partial().shape,
  })
  .meta({ id: "BillingUsage" });
export type BillingUsage = z.output<typeof billingUsage>;
