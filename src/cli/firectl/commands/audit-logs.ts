import { Option } from "commander";
import type { AuditLog } from "../../../http/resources/audit-log.ts";
import { runs } from "../context.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { paths } from "../names.ts";
import { localTime, renderTable, type Column } from "../output.ts";
import { parseTime } from "../parsers.ts";

/** `firectl audit-logs list`: who did what, newest first (admins see every entry of the account). */
export const auditLogsNoun: Noun = { name: "audit-logs", aliases: ["audit-log", "auditlogs"], description: "the account's audit log" };

/** `OK`, or the google.rpc code name of a refused or failed attempt. */
const outcome = (entry: AuditLog): string => entry.status?.code || "OK";

const COLUMNS: ReadonlyArray<Column<AuditLog>> = [
  ["TIME", (e) => localTime(e.timestamp)],
  ["PRINCIPAL", (e) => e.principal || "(unauthenticated)"],
  ["METHOD", (e) => e.method ?? ""],
  ["RESOURCE", (e) => e.resource ?? ""],
  ["STATUS", outcome],
];

interface AuditOptions extends ListFlags {
  start?: string;
  end?: string;
  email?: string;
}

const listAuditLogs: Verb = {
  noun: "audit-logs",
  verb: "list",
  summary: "list audit log entries, newest first (default: the last 30 days)",
  examples: [
    "firectl audit-logs list",
    'firectl audit-logs list --start "2026-01-01" --end "2026-01-31 23:59:59"',
    "firectl audit-logs list --filter 'email=\"my-service-account@my-account.sa.hearth.local\"'",
  ],
  define: (command) =>
    runs<AuditOptions>(
      withListFlags(
        command
          .addOption(new Option("--start <time>", 'earliest entry, "YYYY-MM-DD[ HH:MM:SS]" in local time (default: 30 days ago)').argParser(parseTime))
          .addOption(new Option("--end <time>", 'latest entry, "YYYY-MM-DD[ HH:MM:SS]" in local time (default: now)').argParser(parseTime))
          .option("--email <email>", "only entries of this principal"),
        "'method=\"CreateUser\"'",
      ),
      async (ctx, _args, o) => {
        const request = { method: "GET", path: paths.auditLogs(await ctx.accountId()), query: { startTime: o.start, endTime: o.end, email: o.email } } as const;
        await list<AuditLog>(ctx, request, "auditLogs", o, (entries) => renderTable(COLUMNS, entries));
      },
    ),
};

interface ExportOptions {
  format: string;
  start?: string;
  end?: string;
  email?: string;
  filter?: string;
}

const exportAuditLogs: Verb = {
  noun: "audit-logs",
  verb: "export",
  summary: "write the audit log to stdout as JSON Lines or CSV, streamed (default: all of it); an admin's unfiltered JSON Lines export verifies offline",
  examples: [
    "firectl audit-logs export --format jsonl > audit.jsonl",
    'firectl audit-logs export --format csv --start "2026-01-01" > january-on.csv',
    "hearth audit verify --file audit.jsonl --public-key hearth-audit-keys.json",
  ],
  define: (command) =>
    runs<ExportOptions>(
      command
        .addOption(new Option("--format <format>", "jsonl or csv").choices(["jsonl", "csv"]).default("jsonl"))
        .addOption(new Option("--start <time>", 'earliest entry, "YYYY-MM-DD[ HH:MM:SS]" in local time').argParser(parseTime))
        .addOption(new Option("--end <time>", 'end (exclusive), "YYYY-MM-DD[ HH:MM:SS]" in local time').argParser(parseTime))
        .option("--email <email>", "only entries of this principal")
        .option("--filter <filter>", "AIP-160 filter over the list's fields, e.g. 'method=\"CreateUser\"'"),
      async (ctx, _args, o) => {
        const request = {
          method: "GET",
          path: `${paths.auditLogs(await ctx.accountId())}:export`,
          query: { format: o.format, startTime: o.start, endTime: o.end, email: o.email, filter: o.filter },
        } as const;
        if (ctx.dryRun) {
          ctx.out(ctx.describe(request));
          return;
        }
        await ctx.client.download(request, await ctx.bearer(), process.stdout);
      },
    ),
};

export const auditLogsVerbs: Verb[] = [listAuditLogs, exportAuditLogs];
