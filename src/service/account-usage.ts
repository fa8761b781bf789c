/**
 * @module Fireworks' "Get Account Usage" (`Gateway_GetAccountUsage`) read from Hearth's metered
 * usage: the request rules of docs.fireworks.ai/api-reference/get-billing-usage and
 * docs.fireworks.ai/accounts/exporting-usage-and-costs, for the usage Hearth meters (serverless
 * inference by UTC day, model, principal and key).
 */
import { invalidArgument } from "../domain/errors.ts";
import { utcDay } from "../domain/pricing.ts";
import { formatTimestamp } from "../domain/time.ts";
import type { AccountUsage, ServerlessUsage } from "../http/resources/account-usage.ts";
import { billingUsageName } from "../domain/resource-names.ts";
import { apiKeyDisplayNames, apiKeyIdsNamed } from "../store/api-keys.ts";
import { usageByGroup, type UsageDimension, type UsageWhere } from "../store/usage.ts";
import { auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize, holds } from "./permissions.ts";
import { withOthersKeysSummed } from "./usage-visibility.ts";

/** `usageType` (Fireworks' enum; unset or USAGE_TYPE_UNSPECIFIED: every type). */
export const USAGE_TYPES = ["USAGE_TYPE_UNSPECIFIED", "SERVERLESS", "DEDICATED_DEPLOYMENT", "TRAINING"] as const;
type UsageType = (typeof USAGE_TYPES)[number];

/** The serverless dimensions Fireworks documents that Hearth meters, and the `usage_daily` column each reads. */
const SERVERLESS_COLUMN = { model_name: "model", api_key_id: "api_key_id", api_key_name: "api_key_id" } as const satisfies Record<string, UsageDimension>;
export type ServerlessDimension = keyof typeof SERVERLESS_COLUMN;
const SERVERLESS_DIMENSIONS = Object.keys(SERVERLESS_COLUMN) as ServerlessDimension[];
/** Fireworks' dedicated deployment dimensions: Hearth meters no accelerator time, so they group nothing. */
const DEDICATED_DIMENSIONS = ["deployment_name", "accelerator_type"] as const;
/** Every dimension name Fireworks documents for `groupBy` and `filter` (the guide's "Grouping dimensions"). */
export const FIREWORKS_DIMENSIONS: readonly string[] = [
  ...SERVERLESS_DIMENSIONS,
  ...DEDICATED_DIMENSIONS,
  "annotations.team",
  "annotations.project",
  "annotations.environment",
];

/** The longest range Fireworks answers: "end_time must not be more than 31 days after start_time". */
const MAX_RANGE_MS = 31 * 86_400_000;

export interface AccountUsageQuery {
  /** Epoch milliseconds, inclusive; required. */
  startTime: number;
  /** Epoch milliseconds, exclusive; required, at most 31 days after startTime. */
  endTime: number;
  usageType: UsageType;
  /** Dimensions, each a separate GROUP BY column (default model_name); rows are always split by day too. */
  groupBy: readonly string[];
  /** Dimension → values (OR'ed); dimensions AND'ed. */
  filter: Readonly<Record<string, readonly string[]>>;
  /** IANA zone of the day buckets; only UTC (Hearth meters per UTC day). */
  timezone?: string | undefined;
}

/**
 * Why Hearth cannot fill `dimension` for `usageType`, or undefined when it can: a serverless
 * dimension always can; a dedicated one only where the answer is empty anyway (usageType
 * DEDICATED_DEPLOYMENT or TRAINING); annotations never (Hearth keeps no per-request annotations).
 */
function unfillable(dimension: string, usageType: UsageType): string | undefined {
  if ((SERVERLESS_DIMENSIONS as readonly string[]).includes(dimension)) return undefined;
  if ((DEDICATED_DIMENSIONS as readonly string[]).includes(dimension)) {
    if (usageType === "DEDICATED_DEPLOYMENT" || usageType === "TRAINING") return undefined;
    return `"${dimension}" is a dedicated deployment dimension and Hearth meters no dedicated deployment usage (its inference is serverless usage: group it by ${SERVERLESS_DIMENSIONS.join(", ")}; usageType=DEDICATED_DEPLOYMENT answers empty)`;
  }
  if (dimension.startsWith("annotations."))
    return `"${dimension}": Hearth does not meter per-request annotations (serverless dimensions: ${SERVERLESS_DIMENSIONS.join(", ")})`;
  return `unknown dimension "${dimension.slice(0, 100)}" (Fireworks' dimensions: ${FIREWORKS_DIMENSIONS.join(", ")})`;
}

/** Refuses (INVALID_ARGUMENT naming the parameter) what Hearth cannot answer as Fireworks would. */
function check(query: AccountUsageQuery): void {
  if (query.startTime >= query.endTime) throw invalidArgument("startTime must be before endTime");
  if (query.endTime - query.startTime > MAX_RANGE_MS) throw invalidArgument("endTime must not be more than 31 days after startTime");
  if (query.timezone && query.timezone !== "UTC" && query.timezone !== "Etc/UTC") {
    throw invalidArgument(`timezone "${query.timezone.slice(0, 100)}" is not served: Hearth meters usage per UTC day, so only UTC (the default) buckets it`);
  }
  if (new Set(query.groupBy).size !== query.groupBy.length) throw invalidArgument("groupBy names a dimension twice");
  for (const [param, dimensions] of [
    ["groupBy", query.groupBy],
    ["filter", Object.keys(query.filter)],
  ] as const) {
    for (const dimension of dimensions) {
      const why = unfillable(dimension, query.usageType);
      if (why) throw invalidArgument(`${param}: ${why}`);
    }
  }
}

/**
 * The `serverlessCosts` rows of UTC days [fromDay, toDay]: a row per day and group of `groupBy`
 * (serverless dimensions), of the usage `filter` keeps. To a caller who may not list other
 * principals' keys (`apiKeys.listOthers`), their keys are summed into rows without key id or name,
 * and a filter on a key matches the caller's own keys only. The caller is already authorized.
 */
export async function serverlessCosts(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  days: { fromDay: string; toDay: string },
  groupBy: readonly ServerlessDimension[],
  filter: Readonly<Partial<Record<ServerlessDimension, readonly string[]>>>,
): Promise<ServerlessUsage[]> {
  const db = deps.store.db;
  const me = ctx.principal.email;
  const seesAllKeys = holds(ctx.principal, "apiKeys.listOthers");
  const where: UsageWhere = {};
  if (filter.model_name) where.model = filter.model_name;
  if (filter.api_key_id || filter.api_key_name) {
    const named = filter.api_key_name ? await apiKeyIdsNamed(db, accountId, filter.api_key_name) : undefined;
    where.api_key_id = filter.api_key_id && named ? filter.api_key_id.filter((id) => named.includes(id)) : (filter.api_key_id ?? named ?? []);
    if (!seesAllKeys) where.principal = [me];
  }
  const byKey = groupBy.some((d) => SERVERLESS_COLUMN[d] === "api_key_id");
  const dimensions = [...new Set<UsageDimension>(["day", ...groupBy.map((d) => SERVERLESS_COLUMN[d])])];
  const hideKeys = byKey && !seesAllKeys;
  if (hideKeys) dimensions.push("principal");
  // Calls this process metered are written behind their responses: read them here once written.
  await deps.cluster.meter.flush();
  const grouped = await usageByGroup(db, accountId, days.fromDay, days.toDay, dimensions, where);
  const groups = hideKeys ? withOthersKeysSummed(grouped, me, false) : grouped;
  const names = groupBy.includes("api_key_name") ? await apiKeyDisplayNames(db, accountId, [...new Set(groups.flatMap((g) => g.api_key_id ?? []))]) : undefined;
  return groups.map((g) => {
    const start = Date.parse(`${g.day}T00:00:00Z`);
    const group: Record<string, string> = {};
    for (const d of groupBy) {
      const value =
        d === "model_name" ? g.model : d === "api_key_id" ? g.api_key_id : g.api_key_id === undefined ? undefined : (names?.get(g.api_key_id) ?? "");
      if (value !== undefined) group[d] = value;
    }
    return {
      startTime: formatTimestamp(start),
      endTime: formatTimestamp(start + 86_400_000),
      ...(group.model_name !== undefined && { modelName: group.model_name }),
      ...(group.api_key_id !== undefined && { apiKeyId: group.api_key_id }),
      group,
      promptTokens: String(g.prompt_tokens),
      completionTokens: String(g.completion_tokens),
      costNanoUsd: g.spend_nano,
    };
  });
}

/**
 * Fireworks' `GET …/billingUsage` answer (see `AccountUsageQuery` for the request): serverless
 * inference as `serverlessCosts`, a row per UTC day overlapping [startTime, endTime) and group
 * (whole days: Hearth meters per UTC day); `dedicatedCosts` and `trainingCosts` empty.
 * @throws INVALID_ARGUMENT for a range that is empty or longer than 31 days, a timezone other than
 * UTC, and a dimension (in groupBy or filter) Hearth cannot fill, naming it.
 */
export async function accountUsage(deps: Deps, ctx: Ctx, accountId: string, query: AccountUsageQuery): Promise<AccountUsage> {
  const op = { method: "GetBillingUsage", resource: billingUsageName(accountId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "billingUsage.get");
    check(query);
    const serverless = query.usageType === "SERVERLESS" || query.usageType === "USAGE_TYPE_UNSPECIFIED";
    const days = { fromDay: utcDay(query.startTime), toDay: utcDay(query.endTime - 1) };
    const groupBy = (query.groupBy.length > 0 ? query.groupBy : ["model_name"]) as ServerlessDimension[];
    return {
      serverlessCosts: serverless ? await serverlessCosts(deps, ctx, accountId, days, groupBy, query.filter) : [],
      dedicatedCosts: [],
      trainingCosts: [],
    };
  });
}
