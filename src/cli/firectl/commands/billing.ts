import { InvalidArgumentError, Option, type Command } from "commander";
import { BILLING_USAGE_DIMENSIONS } from "../../../service/billing-usage.ts";
import type { BillingUsage } from "../../../http/resources/billing-usage.ts";
import { runs } from "../context.ts";
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

/** `--group-by`: distinct dimensions, comma-separated, checked here as the server checks `groupBy` (exit 2, naming the flag). */
function parseGroupBy(value: string): string {
  const names = value.split(",").map((n) => n.trim());
  const known = BILLING_USAGE_DIMENSIONS as readonly string[];
  if (names.some((n) => !known.includes(n)) || new Set(names).size !== names.length) {
    throw new InvalidArgumentError(`use distinct values of ${BILLING_USAGE_DIMENSIONS.join(", ")}, comma-separated`);
  }
  return names.join(",");
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

export function defineBilling(program: Command): void {
  const billing = program.command("billing").description("metered usage of the account").addHelpText("after", "\nExamples:\n  firectl billing get-usage\n");
  runs<{ startTime?: string; endTime?: string; groupBy?: string }>(
    billing
      .command("get-usage")
      .description("inference usage (requests, tokens, cost) by model, principal and API key, or by --group-by")
      .addOption(new Option("--start-time <time>", '"YYYY-MM-DD[ HH:MM:SS]" in local time (default: the start of this month)').argParser(parseTime))
      .addOption(new Option("--end-time <time>", '"YYYY-MM-DD[ HH:MM:SS]" in local time (default: now)').argParser(parseTime))
      .addOption(
        new Option("--group-by <dimensions>", "comma-separated: day (UTC), model, principal, apiKey (default: model,principal,apiKey)").argParser(parseGroupBy),
      )
      .addHelpText(
        "after",
        "\nExamples:\n  firectl billing get-usage\n  firectl billing get-usage --group-by day\n  firectl billing get-usage --group-by day,model --start-time 2026-11-01 --end-time 2026-12-01 -o json\n",
      ),
    async (ctx, _args, o) => {
      const request = {
        method: "GET",
        path: paths.billingUsage(await ctx.accountId()),
        query: { startTime: o.startTime, endTime: o.endTime, groupBy: o.groupBy },
      } as const;
      await ctx.call<BillingUsage>(request, (u) => ctx.show(u, render));
    },
  );
}
