/**
 * @module Telling Fireworks' "Get Account Usage" request from Hearth's own usage report at the
 * same path (`GET …/billingUsage`), and reading Fireworks' parameters, which Hearth's query
 * reader would refuse: `groupBy` repeated, and `filter[<dimension>][values]=<value>` (repeated
 * values OR'ed), as docs.fireworks.ai/accounts/exporting-usage-and-costs sends them.
 */
import { z } from "zod";
import { describeIssue } from "../../domain/describe-issue.ts";
import { invalidArgument } from "../../domain/errors.ts";
import { FIREWORKS_DIMENSIONS, USAGE_TYPES, type AccountUsageQuery } from "../../service/account-usage.ts";
import { timestamp } from "../schemas.ts";

/** Fireworks' parameters by JSON name, with the proto names gRPC transcoding accepts too. */
const NAMES: Readonly<Record<string, string>> = {
  startTime: "startTime",
  start_time: "startTime",
  endTime: "endTime",
  end_time: "endTime",
  usageType: "usageType",
  usage_type: "usageType",
  groupBy: "groupBy",
  group_by: "groupBy",
  timezone: "timezone",
};
const FILTER = /^filter\[([^\][]{1,100})\]\[values\]$/;

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/**
 * Whether `raw` asks in Fireworks' terms: it names `usageType`, `timezone` or a `filter`, repeats
 * `groupBy` (or `group_by`), or groups by one of Fireworks' dimension names (`model_name`,
 * `annotations.team`; never one of Hearth's `day`, `model`, `principal`, `apiKey`).
 */
export function asksFireworksUsage(raw: Record<string, unknown>): boolean {
  return Object.entries(raw).some(([name, value]) => {
    const param = NAMES[name];
    if (param === "groupBy") return Array.isArray(value) || (typeof value === "string" && value.split(",").some(isFireworksDimension));
    return param === "usageType" || param === "timezone" || name.startsWith("filter");
  });
}

const isFireworksDimension = (name: string): boolean => FIREWORKS_DIMENSIONS.includes(name.trim()) || name.trim().startsWith("annotations.");

const fireworksQuery = z.object({
  startTime: timestamp("startTime"),
  endTime: timestamp("endTime"),
  usageType: z.enum(USAGE_TYPES).default("USAGE_TYPE_UNSPECIFIED"),
  groupBy: z.array(z.string().max(100)).max(16).default([]),
  filter: z.record(z.string(), z.array(z.string().max(512)).max(100)).default({}),
  timezone: z.string().max(100).optional(),
});

/**
 * Fireworks' request read from `raw`: every parameter once, but `groupBy` and each filter's values,
 * which may repeat. Dimensions are checked by the service (`accountUsage`).
 * @throws INVALID_ARGUMENT naming an unknown parameter, a repeated one, or a bad value.
 */
export function readFireworksUsageQuery(raw: Record<string, unknown>): AccountUsageQuery {
  const given: Record<string, unknown> = {};
  const filter: Record<string, unknown[]> = {};
  for (const [name, value] of Object.entries(raw)) {
    const dimension = FILTER.exec(name)?.[1];
    if (dimension !== undefined) {
      filter[dimension] = listOf(value);
      continue;
    }
    const param = NAMES[name];
    if (param === undefined) {
      throw invalidArgument(
        `unknown query parameter "${name.slice(0, 100)}" (parameters: ${[...new Set(Object.values(NAMES))].join(", ")}, filter[<dimension>][values])`,
      );
    }
    if (param in given) throw invalidArgument(`query parameter "${param}" is given twice (as "${param}" and as its proto name)`);
    if (param !== "groupBy" && Array.isArray(value)) throw invalidArgument(`query parameter "${param}" is given ${value.length} times; give it once`);
    // Fireworks repeats groupBy; a comma-separated value is read as the same list.
    given[param] = param === "groupBy" ? listOf(value).flatMap((v) => (typeof v === "string" ? v.split(",").map((d) => d.trim()) : [v])) : value;
  }
  const value = { ...given, filter };
  const result = fireworksQuery.safeParse(value);
  if (!result.success) throw invalidArgument(describeIssue("query parameter", result.error, value));
  return result.data;
}
