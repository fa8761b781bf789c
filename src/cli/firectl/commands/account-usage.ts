/**
 * @module `firectl billing get-usage` asked with Fireworks' flags (`--usage-type`, `--group-by
 * model_name` repeated, `--filter key=value`, `--timezone`, `--account-costs-only`), as
 * docs.fireworks.ai/accounts/exporting-usage-and-costs and
 * docs.fireworks.ai/tools-sdks/firectl/commands/billing-get-usage describe them: the request, and the
 * two parts its text prints, account costs (dollar totals for the range) and usage (grouped rows).
 * `-o json` prints the API's answer as it is (Fireworks: "Both return the same response shape").
 */
import { InvalidArgumentError } from "commander";
import type { AccountUsage, ServerlessUsage } from "../../../http/resources/account-usage.ts";
import type { ApiRequest } from "../client.ts";
import { usageError } from "../errors.ts";
import { renderTable, type Column } from "../output.ts";

/** `--usage-type` as Fireworks' firectl spells it, and the API's `usageType` it sends. */
export const USAGE_TYPE_FLAG: Readonly<Record<string, string>> = {
  all: "USAGE_TYPE_UNSPECIFIED",
  serverless: "SERVERLESS",
  "dedicated-deployment": "DEDICATED_DEPLOYMENT",
  training: "TRAINING",
};

export interface FireworksUsageFlags {
  startTime?: string;
  endTime?: string;
  usageType?: string;
  groupBy: readonly string[];
  filter?: Readonly<Record<string, string[]>>;
  timezone?: string;
  accountCostsOnly?: boolean;
}

/** `--filter key=value` (repeatable; values of one key are OR'ed), collected by key. */
export function collectFilter(value: string, previous: Record<string, string[]> | undefined): Record<string, string[]> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("use key=value, e.g. model_name=accounts/fireworks/models/llama-v3p1-8b-instruct");
  const key = value.slice(0, at);
  const out = { ...previous };
  out[key] = [...(out[key] ?? []), value.slice(at + 1)];
  return out;
}

/**
 * The API request. Without a range, this month so far (UTC), as Hearth's own report defaults: the
 * API requires both ends and at most 31 days between them.
 */
export function accountUsageRequest(path: string, o: FireworksUsageFlags, outputJson: boolean): ApiRequest {
  if (o.accountCostsOnly && outputJson) {
    throw usageError("--account-costs-only prints text only: Fireworks' account costs in JSON are its GetBillingSummary answer, which Hearth does not serve");
  }
  const now = new Date();
  const filters = Object.entries(o.filter ?? {}).map(([key, values]) => [`filter[${key}][values]`, values] as const);
  return {
    method: "GET",
    path,
    query: {
      startTime: o.startTime ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
      endTime: o.endTime ?? now.toISOString(),
      usageType: USAGE_TYPE_FLAG[o.usageType ?? "all"],
      groupBy: o.groupBy,
      timezone: o.timezone,
      ...Object.fromEntries(filters),
    },
  };
}

const usd = (nano: number): string => `$${(nano / 1e9).toFixed(6)}`;
const sum = (rows: readonly ServerlessUsage[]): number => rows.reduce((n, r) => n + r.costNanoUsd, 0);

/** The account costs part: each usage type's cost and the total, in dollars. */
function accountCosts(u: AccountUsage): string {
  const serverless = sum(u.serverlessCosts);
  return `Account costs\n  Serverless:            ${usd(serverless)}\n  Dedicated deployments: ${usd(0)}\n  Training:              ${usd(0)}\n  Total:                 ${usd(serverless)}\n`;
}

/** The usage part: a row per day and group, the group's dimensions as columns in the order asked. */
function usageTable(u: AccountUsage, groupBy: readonly string[]): string {
  const dimensions = groupBy.length > 0 ? groupBy : ["model_name"];
  const columns: Array<Column<ServerlessUsage>> = [
    ["DAY (UTC)", (r) => r.startTime.slice(0, 10)],
    ...dimensions.map((d): Column<ServerlessUsage> => [d.toUpperCase(), (r) => r.group[d] ?? ""]),
    ["PROMPT TOKENS", (r) => r.promptTokens],
    ["COMPLETION TOKENS", (r) => r.completionTokens],
    ["COST USD", (r) => usd(r.costNanoUsd).slice(1)],
  ];
  return `Serverless usage\n${renderTable(columns, u.serverlessCosts)}`;
}

/** The text firectl prints: account costs, then (unless `--account-costs-only`) the usage rows. */
export function renderAccountUsage(u: AccountUsage, o: FireworksUsageFlags): string {
  return o.accountCostsOnly ? accountCosts(u) : `${accountCosts(u)}\n${usageTable(u, o.groupBy)}`;
}
