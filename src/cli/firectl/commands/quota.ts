import { Option } from "commander";
import type { Quota } from "../../../http/resources/quota.ts";
import { runs } from "../context.ts";
import type { Noun, Verb } from "../grammar.ts";
import { paths, quotaRef } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { parseCount } from "../parsers.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";

/** `firectl quota …`: the account's shared quotas and their usage. */
export const quotaNoun: Noun = { name: "quota", aliases: ["quotas"], description: "quotas shared by every principal of the account" };

function quotaFields(q: Quota): string {
  return renderFields([
    ["Name", q.name],
    ["Value", q.value ?? ""],
    ["Max Value", q.maxValue ?? ""],
    ["Usage", String(q.usage ?? "")],
    ["Update Time", localTime(q.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Quota>> = [
  ["QUOTA", (q) => idOf(q.name)],
  ["VALUE", (q) => q.value ?? ""],
  ["MAX", (q) => q.maxValue ?? ""],
  ["USAGE", (q) => String(q.usage ?? "")],
  ["UPDATED", (q) => localTime(q.updateTime)],
];

const listQuotas: Verb = {
  noun: "quota",
  verb: "list",
  summary: "list the account's quotas with their usage",
  examples: ["firectl quota list", "firectl quota list --filter 'name=\"service-accounts\"'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'name=\"service-accounts\"'"), async (ctx, _args, o) => {
      await list<Quota>(ctx, { method: "GET", path: paths.quotas(await ctx.accountId()) }, "quotas", o, (items) => renderTable(COLUMNS, items));
    }),
};

const get: Verb = {
  noun: "quota",
  verb: "get",
  summary: "show one quota with its usage",
  examples: ["firectl quota get service-accounts"],
  define: (command) =>
    runs(command.argument("<quota>", "quota id or name, e.g. service-accounts"), async (ctx, [value]) => {
      const ref = quotaRef(value ?? "");
      await ctx.call<Quota>({ method: "GET", path: paths.quota(await ctx.accountId(ref), ref.id) }, (q) => ctx.show(q, quotaFields));
    }),
};

interface UpdateOptions {
  value: number;
}

const update: Verb = {
  noun: "quota",
  verb: "update",
  summary: "set a quota's value, at most its maximum (admin)",
  examples: ["firectl quota update service-accounts --value 20"],
  define: (command) =>
    runs<UpdateOptions>(
      command
        .argument("<quota>", "quota id or name")
        .addOption(
          new Option("--value <n>", "the new value (a non-negative integer, at most the quota's maximum)").argParser(parseCount).makeOptionMandatory(),
        ),
      async (ctx, [value], o) => {
        const ref = quotaRef(value ?? "");
        const request = { method: "PATCH", path: paths.quota(await ctx.accountId(ref), ref.id), body: { value: o.value } } as const;
        await ctx.call<Quota>(request, (q) => ctx.show(q, quotaFields));
      },
    ),
};

export const quotaVerbs: Verb[] = [listQuotas, get, update];
