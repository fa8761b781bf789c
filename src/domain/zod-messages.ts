/**
 * @module zod's refusals of a size or a choice worded as the rest of Hearth's are: "must be at most
 * 65535", "must be at most 1000 characters long", "must be one of "silent", "error", …" instead of
 * zod's "Too big: expected number to be <=65535" or "Invalid option: expected one of …". Installed
 * in zod's global configuration when this module is first imported (config.ts, which every entry
 * point reads, imports it); any other issue keeps zod's own words.
 */
import { z } from "zod";

type Issue = Parameters<NonNullable<z.core.$ZodConfig["customError"]>>[0];

/** What a size bound counts, by zod's `origin`: "" for a number, " characters long" for a string, … */
const UNITS: Record<string, string> = { string: " characters long", array: " items", set: " items", file: " bytes" };

/** The sentence for a size or choice issue, or undefined for zod's default wording. */
function issueSentence(issue: Issue): string | undefined {
  switch (issue.code) {
    case "too_big":
    case "too_small": {
      const big = issue.code === "too_big";
      const bound = big ? issue.maximum : issue.minimum;
      const unit = UNITS[issue.origin ?? ""] ?? "";
      if (issue.origin === "date") return undefined;
      if (issue.exact) return `must be exactly ${bound}${unit}`;
      if (issue.inclusive === false) return `must be ${big ? "less" : "more"} than ${bound}${unit}`;
      return `must be at ${big ? "most" : "least"} ${bound}${unit}`;
    }
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      return values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(", ")}`;
    }
    default:
      return undefined;
  }
}

z.config({ customError: issueSentence });
