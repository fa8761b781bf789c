import { InvalidArgumentError, Option, type Command } from "commander";
import type { ListFlags } from "./listing.ts";

/**
 * @module `--unused 90d` on `api-key list` and `user list`: keys or principals that have not
 * authenticated for more than that many days (a never-used one counts from its creation), as the
 * lists' `unused_days>N` filter, joined with `--filter` by AND.
 */

/** A number of days: `90d` or `90`. */
function parseDays(value: string): number {
  const m = /^(\d{1,6})d?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError("expected a whole number of days, e.g. 90d");
  return Number(m[1]);
}

/** Adds `--unused <days>`; `what` names the listed items ("keys", "users and service accounts"). */
export function withUnusedFlag(command: Command, what: string): Command {
  return command.addOption(
    new Option("--unused <days>", `only ${what} not authenticated for more than this many days, e.g. 90d (never used: counted from creation)`).argParser(
      parseDays,
    ),
  );
}

/** `flags` with `--unused` folded into the filter. */
export function unusedFilter<F extends ListFlags & { unused?: number }>(flags: F): F {
  if (flags.unused === undefined) return flags;
  const unused = `unused_days>${flags.unused}`;
  return { ...flags, filter: flags.filter?.trim() ? `(${flags.filter}) AND ${unused}` : unused };
}
