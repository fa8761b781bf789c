import { InvalidArgumentError, Option, type Command } from "commander";
import { FIREWORKS_DIMENSIONS } from "../../../service/account-usage.ts";
import { BILLING_USAGE_DIMENSIONS } from "../../../service/billing-usage.ts";
import type { AccountUsage } from "../../../http/resources/account-usage.ts";
import type { BillingUsage } from "../../../http/resources/billing-usage.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import { accountUsageRequest, collectFilter, renderAccountUsage, USAGE_TYPE_FLAG, type FireworksUsageFlags } from "./account-usage.ts";
import { paths } from "../names.ts";
import { renderTable, type Column } from "../output.ts";
import { parseTime } from "../parsers.ts";

/** `firectl billing get-usage`: metered inference usage by day, model, principal and/or key; one row of its table. */
type UsageRow = BillingUsage["usage"][number];

/** The grouping columns, shown when the rows carry them (the server leaves out what is not grouped by). */
const GROUP_COLUMNS: ReadonlyArray<readonly [keyof UsageRow, Column<UsageRow>]> = [
  ["day", ["DAY (UTC)", (u) => u.day ?? ""]],
  ["model", ["MODEL", (u) => u.model ?? ""]],
  ["principal", ["PRINCIPAL", (u) => u.principal ?? ""]],
  ["apiKeyId", ["API KEY", (u) => u.apiKeyId ?? ""]],
];

const COUNT_COLUMNS: ReadonlyArray<Column<UsageRow>> = [
  ["REQUESTS", (u) => String(u.requestCount)],
  ["PROMPT TOKENS", (u) => String(u.promptTokens)],
  ["COMPLETION TOKENS", (u) => String(u.completionTokens)],
  ["COST USD", (u) => u.costUsd.toFixed(6)],
];

/** Hearth's dimensions (`day,model`, one comma-separated value) or Fireworks' (`model_name`, one a value, repeatable). */
const OWN_GROUPS = `distinct values of ${BILLING_USAGE_DIMENSIONS.join(", ")}, comma-separated`;

/**
 * `--group-by` (repeatable): a Fireworks dimension (`model_name`, `annotations.team`, …, checked by
 * the server against what it meters) or Hearth's comma-separated dimensions, checked here as the
 * server checks `groupBy` (exit 2, naming the flag).
 */
function collectGroupBy(value: string, previous: string[] | undefined): string[] {
  if (FIREWORKS_DIMENSIONS.includes(value) || value.startsWith("annotations.")) return [...(previous ?? []), value];
  const names = value.split(",").map((n) => n.trim());
  const known = BILLING_USAGE_DIMENSIONS as readonly string[];
  if (names.some((n) => !known.includes(n)) || new Set(names).size !== names.length) {
    throw new InvalidArgumentError(`use ${OWN_GROUPS}, or Fireworks' ${FIREWORKS_DIMENSIONS.join(", ")} (repeated)`);
  }
  return [...(previous ?? []), names.join(",")];
}

function render(u: BillingUsage): string {
  const t = u.total;
  const grouped = GROUP_COLUMNS.filter(([field]) => u.usage.some((row) => row[field] !== undefined)).map(([, column]) => column);
  return (
    `Usage from ${u.startTime} to ${u.endTime} (whole UTC days)\n\n` +
    renderTable([...grouped, ...COUNT_COLUMNS], u.usage) +
    `\nTotal: ${t.requestCount} requests, ${t.promptTokens} prompt and ${t.completionTokens} completion tokens, $${t.costUsd.toFixed(6)}\n`
  );
}

type Flags = Omit<FireworksUsageFlags, "groupBy"> & { groupBy?: string[] };

/** Whether the flags ask in Fireworks' terms (then the answer is Fireworks' `serverlessCosts`). */
const asksFireworks = (o: Flags): boolean =>
  o.usageType !== undefined ||
  o.filter !== undefined ||
  o.timezone !== undefined ||
  o.accountCostsOnly === true ||
  (o.groupBy ?? []).some((g) => FIREWORKS_DIMENSIONS.includes(g) || g.startsWith("annotations."));

export function defineBilling(program: Command): void {
  const billing = program.command("billing").description("metered usage of the account").addHelpText("after", "\nExamples:\n  firectl billing get-usage\n");
  runs<Flags>(
    billing
      .command("get-usage")
      .description(
        "inference usage (requests, tokens, cost) by model, principal and API key, or by --group-by; with Fireworks' flags, Fireworks' account costs and usage",
      )
      .addOption(new Option("--start-time <time>", '"YYYY-MM-DD[ HH:MM:SS]" in local time, inclusive (default: the start of this month)').argParser(parseTime))
      .addOption(new Option("--end-time <time>", '"YYYY-MM-DD[ HH:MM:SS]" in local time, exclusive (default: now)').argParser(parseTime))
      .addOption(
        new Option(
          "--group-by <dimension>",
          "Hearth's comma-separated day (UTC), model, principal, apiKey (default: model,principal,apiKey); or Fireworks' model_name, api_key_id, api_key_name, repeatable",
        ).argParser(collectGroupBy),
      )
      .addOption(
        new Option("--usage-type <type>", "Fireworks' usage type (default: all); Hearth meters serverless usage only").choices(Object.keys(USAGE_TYPE_FLAG)),
      )
      .addOption(new Option("--filter <key=value>", "Fireworks' filter by a dimension, repeatable; values of one key are OR'ed").argParser(collectFilter))
      .addOption(new Option("--timezone <zone>", "IANA zone of the daily buckets (default: UTC; Hearth meters per UTC day, so only UTC)"))
      .addOption(new Option("--account-costs-only", "print only the account's cost totals for the range"))
      .addHelpText(
        "after",
        "\nExamples:\n  firectl billing get-usage\n  firectl billing get-usage --group-by day\n  firectl billing get-usage --group-by day,model --start-time 2026-11-01 --end-time 2026-12-01 -o json\n" +
          "  firectl billing get-usage --start-time 2026-11-01 --end-time 2026-12-01 --usage-type serverless --group-by api_key_name --group-by model_name\n",
      ),
    async (ctx, _args, o) => {
      const path = paths.billingUsage(await ctx.accountId());
      if (asksFireworks(o)) {
        const hearth = (o.groupBy ?? []).find((g) => !FIREWORKS_DIMENSIONS.includes(g) && !g.startsWith("annotations."));
        if (hearth !== undefined)
          throw usageError(`--group-by ${hearth} is Hearth's dimension; with Fireworks' flags group by ${FIREWORKS_DIMENSIONS.join(", ")}`);
        const flags = { ...o, groupBy: o.groupBy ?? [] };
        await ctx.call<AccountUsage>(accountUsageRequest(path, flags, ctx.structured), (u) => ctx.show(u, (v) => renderAccountUsage(v, flags)));
        return;
      }
      if ((o.groupBy?.length ?? 0) > 1) throw usageError("--group-by: give Hearth's dimensions once, comma-separated (day,model)");
      const request = { method: "GET", path, query: { startTime: o.startTime, endTime: o.endTime, groupBy: o.groupBy?.[0] } } as const;
      await ctx.call<BillingUsage>(request, (u) => ctx.show(u, render));
    },
  );
}
