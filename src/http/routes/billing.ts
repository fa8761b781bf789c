import { z } from "zod";
import { BILLING_USAGE_DIMENSIONS, billingUsage, type BillingUsageDimension } from "../../service/billing-usage.ts";
import type { Router } from "../route.ts";
import { accountParams, timestamp } from "../schemas.ts";
import { billingUsage as billingUsageSchema } from "../resources/billing-usage.ts";

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
  })
  .meta({ description: `Comma-separated dimensions to group by: ${BILLING_USAGE_DIMENSIONS.join(", ")} (day: UTC). Default model,principal,apiKey.` });

export function billingRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/billingUsage",
    operationId: "GetBillingUsage",
    actions: ["billingUsage.get"],
    summary: "Metered inference usage (requests, tokens, cost) over whole UTC days, grouped by day, model, principal and/or key",
    tag: "Billing",
    response: billingUsageSchema,
    params: accountParams,
    query: z.object({ startTime: timestamp("startTime").optional(), endTime: timestamp("endTime").optional(), groupBy: groupBy.optional() }),
    handler: ({ deps, ctx, params, query }) => billingUsage(deps, ctx, params.accountId, query),
  });
}
