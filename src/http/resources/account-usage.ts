/**
 * @module Fireworks' "Get Account Usage" answer (`GatewayAccountUsage`, operationId
 * `Gateway_GetAccountUsage`, `GET /v1/accounts/{account}/billingUsage`), as Hearth fills it.
 *
 * Sources: the REST reference docs.fireworks.ai/api-reference/get-billing-usage (the fields of
 * `serverlessCosts` and `dedicatedCosts`), the guide docs.fireworks.ai/accounts/exporting-usage-and-costs
 * ("Token counts come back as JSON strings (int64 over JSON)"; "The deprecated top-level apiKeyId
 * field is only populated when groupBy=api_key_id is requested — always read API-key values from the
 * group map"), and Fireworks' published schema as generated clients carry it (`AccountUsageServerlessUsage`
 * with `costNanoUsd` a number, `cachedPromptTokens`, `uncachedPromptTokens`; `trainingCosts`).
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** An int64 count as proto3 JSON writes it: a decimal string. */
const int64 = z.string().regex(/^\d+$/);

/**
 * One day of serverless inference of one group. Hearth meters per UTC day, so every row is one
 * whole UTC day [startTime, endTime). Fields Hearth does not meter (`cachedPromptTokens`,
 * `uncachedPromptTokens`, `audioInputSeconds`, `usageType`) are left out, as proto3 JSON leaves out
 * unset fields, rather than guessed.
 */
const serverlessUsage = z
  .object({
    startTime: timestamp.meta({ description: "Start of the day bucket (inclusive), 00:00 UTC" }),
    endTime: timestamp.meta({ description: "End of the day bucket (exclusive), 00:00 UTC the next day" }),
    modelName: z.string().optional().meta({ description: "The model, when grouped by model_name" }),
    apiKeyId: z.string().optional().meta({ description: "Deprecated by Fireworks: the key id, only when grouped by api_key_id; read group.api_key_id" }),
    group: z.record(z.string(), z.string()).meta({
      description:
        "Each groupBy dimension asked for and this row's value (model_name, api_key_id, api_key_name). Other principals' keys, to a caller who may not list them, are summed into rows without api_key_id and api_key_name",
    }),
    promptTokens: int64.meta({ description: "Prompt tokens, an int64 as a decimal string" }),
    completionTokens: int64.meta({ description: "Completion tokens, an int64 as a decimal string" }),
    costNanoUsd: z.number().int().min(0).meta({ description: "Cost at the models' prices, nano-dollars (1e-9 USD)" }),
  })
  .meta({ id: "AccountUsageServerlessUsage" });
export type ServerlessUsage = z.output<typeof serverlessUsage>;

/**
 * Fireworks' usage answer: `serverlessCosts` from Hearth's metered inference; `dedicatedCosts`
 * (accelerator-seconds of deployments) and `trainingCosts` (training jobs) always empty, as Hearth
 * meters no accelerator time and runs no training.
 */
export const accountUsage = z
  .object({
    serverlessCosts: z.array(serverlessUsage),
    dedicatedCosts: z.array(z.never()).meta({ description: "Always empty: Hearth meters no accelerator-seconds" }),
    trainingCosts: z.array(z.never()).meta({ description: "Always empty: Hearth runs no training jobs" }),
  })
  .meta({ id: "GatewayAccountUsage" });
export type AccountUsage = z.output<typeof accountUsage>;
