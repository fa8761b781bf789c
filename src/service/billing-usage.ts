import { invalidArgument } from "../domain/errors.ts";
import { usdFromNano, utcDay } from "../domain/pricing.ts";
import { formatTimestamp } from "../domain/time.ts";
import { usageByGroup, type UsageDimension } from "../store/usage.ts";
import { withOthersKeysSummed } from "./usage-visibility.ts";
import { serverlessCosts } from "./account-usage.ts";
import { auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize, holds } from "./permissions.ts";
import type { BillingUsage } from "../http/resources/billing-usage.ts";
import { billingUsageName } from "../domain/resource-names.ts";

export interface UsageQuery {
  /** Epoch milliseconds; default the start of the current UTC month. */
  startTime?: number | undefined;
  /** Epoch milliseconds, exclusive; default now. */
  endTime?: number | undefined;
  /** The dimensions to group by; default model, principal and key (a row per combination). */
  groupBy?: readonly BillingUsageDimension[] | undefined;
}

/** What the report can be grouped by: `day` is the UTC day (`YYYY-MM-DD`), `apiKey` the key's id. */
export const BILLING_USAGE_DIMENSIONS = ["day", "model", "principal", "apiKey"] as const;
export type BillingUsageDimension = (typeof BILLING_USAGE_DIMENSIONS)[number];

const DEFAULT_GROUP_BY: readonly BillingUsageDimension[] = ["model", "principal", "apiKey"];
const COLUMN: Readonly<Record<BillingUsageDimension, UsageDimension>> = { day: "day", model: "model", principal: "principal", apiKey: "api_key_id" };

const MAX_RANGE_DAYS = 400;

/**
 * Metered inference usage of the account grouped by `query.groupBy` (default model, principal and
 * key; `day` splits by UTC day). It is read from daily aggregate rows, so the range is widened to
 * whole UTC days: every day that overlaps [startTime, endTime) counts in full. A row carries only
 * the fields it is grouped by; to a caller without `apiKeys.listOthers`, other principals' keys are
 * not told apart (`withOthersKeysSummed`). Without `groupBy` the answer carries Fireworks'
 * `serverlessCosts` (by day and model), `dedicatedCosts` and `trainingCosts` too. Refuses (INVALID_ARGUMENT) a range that is empty or spans
 * more than 400 days.
 */
export async function billingUsage(deps: Deps, ctx: Ctx, accountId: string, query: UsageQuery): Promise<BillingUsage> {
  const op = { method: "GetBillingUsage", resource: billingUsageName(accountId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "billingUsage.get");
    const now = Date.now();
    const endTime = query.endTime ?? now + 1;
    const month = new Date(now);
    const startTime = query.startTime ?? Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1);
    if (startTime >= endTime) throw invalidArgument("startTime must be before endTime");
    if (endTime - startTime > MAX_RANGE_DAYS * 86_400_000) throw invalidArgument(`the range may span at most ${MAX_RANGE_DAYS} days`);
    const fromDay = utcDay(startTime);
    const toDay = utcDay(endTime - 1);
    const groupBy = query.groupBy ?? DEFAULT_GROUP_BY;
    // Calls this process metered are written behind their responses: read them here once written.
    await deps.cluster.meter.flush();
    const hideKeys = groupBy.includes("apiKey") && !holds(ctx.principal, "apiKeys.listOthers");
    const dimensions = groupBy.map((d) => COLUMN[d]);
    if (hideKeys && !dimensions.includes("principal")) dimensions.push("principal");
    const grouped = await usageByGroup(deps.store.db, accountId, fromDay, toDay, dimensions);
    const groups = hideKeys ? withOthersKeysSummed(grouped, ctx.principal.email, groupBy.includes("principal")) : grouped;
    const total = { requests: 0, promptTokens: 0, completionTokens: 0, spendNano: 0 };
    const usage = groups.map((g) => {
      total.requests += g.requests;
      total.promptTokens += g.prompt_tokens;
      total.completionTokens += g.completion_tokens;
      total.spendNano += g.spend_nano;
      return {
        ...(g.day !== undefined && { day: g.day }),
        ...(g.model !== undefined && { model: g.model }),
        ...(g.principal !== undefined && { principal: g.principal }),
        ...(g.api_key_id !== undefined && { apiKeyId: g.api_key_id }),
        requestCount: g.requests,
        promptTokens: g.prompt_tokens,
        completionTokens: g.completion_tokens,
        totalTokens: g.prompt_tokens + g.completion_tokens,
        costUsd: usdFromNano(g.spend_nano),
      };
    });
    // Without groupBy the answer is also Fireworks' (by model, as Fireworks' default groups
    // serverless usage), so a script that asks for a range alone finds serverlessCosts.
    const fireworks = query.groupBy === undefined && {
      serverlessCosts: await serverlessCosts(deps, ctx, accountId, { fromDay, toDay }, ["model_name"], {}),
      dedicatedCosts: [],
      trainingCosts: [],
    };
    return {
      ...fireworks,
      startTime: formatTimestamp(Date.parse(`${fromDay}T00:00:00Z`)),
      endTime: formatTimestamp(Date.parse(`${toDay}T00:00:00Z`) + 86_400_000),
      usage,
      total: {
        requestCount: total.requests,
        promptTokens: total.promptTokens,
        completionTokens: total.completionTokens,
        totalTokens: total.promptTokens + total.completionTokens,
        costUsd: usdFromNano(total.spendNano),
      },
    };
  });
}
