import { z } from "zod";
import { billingUsage } from "../../service/billing-usage.ts";
import type { Router } from "../route.ts";
import { accountParams, timestamp } from "../schemas.ts";
import { billingUsage as billingUsageSchema } from "../resources/billing-usage.ts";

export function billingRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/billingUsage",
    operationId: "GetBillingUsage",
    summary: "Metered inference usage (requests, tokens, cost) grouped by model, principal and key, over whole UTC days",
    tag: "Billing",
    response: billingUsageSchema,
    params: accountParams,
    query: z.object({ startTime: timestamp("startTime").optional(), endTime: timestamp("endTime").optional() }),
    handler: ({ deps, ctx, params, query }) => billingUsage(deps, ctx, params.accountId, query),
  });
}
