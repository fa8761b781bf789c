/**
 * @module The billing usage report as the API returns it.
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

const tokens = {
  requestCount: z.number().int().min(0),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  totalTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
};

/** Metered inference over whole UTC days [startTime, endTime), by model, principal and key, and in total. */
export const billingUsage = z
  .object({
    startTime: timestamp,
    endTime: timestamp,
    usage: z.array(z.object({ model: z.string(), principal: z.string(), apiKeyId: z.string(), ...tokens })),
    total: z.object(tokens),
  })
  .meta({ id: "BillingUsage" });
export type BillingUsage = z.output<typeof billingUsage>;
