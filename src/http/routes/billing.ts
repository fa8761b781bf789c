import { z } from "zod";
import { accountUsage } from "../../service/account-usage.ts";
import { BILLING_USAGE_DIMENSIONS, billingUsage, type BillingUsageDimension } from "../../service/billing-usage.ts";
import { readQuery, type Router } from "../route.ts";
import { accountParams, timestamp } from "../schemas.ts";
import { accountUsage as accountUsageSchema } from "../resources/account-usage.ts";
import { billingUsage as billingUsageSchema } from "../resources/billing-usage.ts";
import { asksFireworksUsage, readFireworksUsageQuery } from "./account-usage-query.ts";

/** `groupBy`: comma-separated dimensions, each named once; refused (400 naming `groupBy`) otherwise. */
const groupBy = z
  .string()
  .max(64)
  .transform((text, ctx): BillingUsageDimension[] => {
    const names = text.split(",").map((n) => n.trim());
    const known = BILLING_USAGE_DIMENSIONS as readonly string[];
    const unknown = names.find((n) => !known.includes(n));
    if (unknown !== undefined || new Set(names).size !== names.length) {
      ctx.addIssue({ code: "custom", message: `groupBy must list distinct values of ${BILLING_USAGE_DIMENSIONS.join(", ")}, comma-separated` });
      return z.NEVER;
    }
    return names as BillingUsageDimension[];
  });

/** Hearth's own report's parameters. */
const hearthQuery = z.object({ startTime: timestamp("startTime").optional(), endTime: timestamp("endTime").optional(), groupBy: groupBy.optional() });

/**
 * Both requests' parameters, as `/openapi.json` documents them; the handler reads them itself
 * (`groupBy` and `filter[<dimension>][values]` may repeat in Fireworks' request).
 */
const query = z.looseObject({
  startTime: z
    .string()
    .optional()
    .meta({ description: "RFC 3339, inclusive (whole UTC days count). Hearth's report: default the start of this month; Fireworks': required" }),
  endTime: z
    .string()
    .optional()
    .meta({ description: "RFC 3339, exclusive. Hearth's report: default now, at most 400 days on; Fireworks': required, at most 31 days on" }),
  groupBy: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({
      description: `Hearth's report: comma-separated ${BILLING_USAGE_DIMENSIONS.join(", ")} (day: UTC; default model,principal,apiKey). Fireworks': repeated model_name, api_key_id, api_key_name (default model_name)`,
    }),
  usageType: z.string().optional().meta({ description: "Fireworks': USAGE_TYPE_UNSPECIFIED (default), SERVERLESS, DEDICATED_DEPLOYMENT, TRAINING" }),
  timezone: z.string().optional().meta({ description: "Fireworks': the day buckets' zone; only UTC (the default)" }),
});

export function billingRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/billingUsage",
    operationId: "GetBillingUsage",
    actions: ["billingUsage.get"],
    summary:
      "Metered inference usage (requests, tokens, cost) over whole UTC days: Hearth's report (usage, total), or Fireworks' Get Account Usage (serverlessCosts) when asked with Fireworks' parameters",
    tag: "Billing",
    response: z.union([billingUsageSchema, accountUsageSchema]),
    params: accountParams,
    query,
    handler: ({ deps, ctx, params, query: raw }) =>
      asksFireworksUsage(raw)
        ? accountUsage(deps, ctx, params.accountId, readFireworksUsageQuery(raw))
        : billingUsage(deps, ctx, params.accountId, readQuery(hearthQuery, raw)),
  });
}
