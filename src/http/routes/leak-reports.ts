import { z } from "zod";
import { invalidArgument } from "../../domain/errors.ts";
import { describeIssue } from "../../domain/describe-issue.ts";
import { escapeRefused } from "../../domain/display-text.ts";
import { ApiError } from "../../domain/errors.ts";
import { actOnLeakReport, verifyLeakReport, type LeakFinding } from "../../service/leak-reports.ts";
import { failedAuthentication } from "../auth-failures.ts";
import { MalformedBody } from "../malformed-body.ts";
import { rawJsonBody } from "../raw-body.ts";
import { requestMeta } from "../request-meta.ts";
import type { Router } from "../route.ts";

/** The most findings one report may carry; a scanner with more sends several reports. */
const MAX_FINDINGS = 1000;

/** The most UTF-16 code units of a finding's `url`, `type` and `source` kept (after escaping); the rest is cut off. */
const MAX_FOUND_TEXT = { url: 2048, type: 256, source: 256 } as const;

/** A cut that ends inside a `\uXXXX` escape, or after the first half of a surrogate pair. */
const PARTIAL_END = /(?:\\(?:u[0-9a-f]{0,3})?|[\ud800-\udbff])$/;

/**
 * A finding's text as kept: not a string reads as "", control, bidi and invisible characters are
 * escaped (`escapeRefused`, U+0000 as `\u0000`), and the result is cut to at most `max` UTF-16 code
 * units, never inside an escape or a character. `truncated` says whether anything was cut.
 */
function foundText(value: unknown, max: number): { text: string; truncated: boolean } {
  const text = typeof value === "string" ? escapeRefused(value) : "";
  if (text.length <= max) return { text, truncated: false };
  return { text: text.slice(0, max).replace(PARTIAL_END, ""), truncated: true };
}

/**
 * The findings of a report that can be acted on, in order: each object whose `token` is a
 * non-empty string, with its `url`, `type` and `source` read by `foundText` (the names of those
 * cut short in `truncated`). Anything else in the array (not an object, no token) is skipped,
 * never refused: refusing the report would leave its other keys enabled.
 */
function readFindings(values: readonly unknown[]): LeakFinding[] {
  const findings: LeakFinding[] = [];
  for (const value of values) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    const { token, url, type, source } = value as Record<string, unknown>;
    if (typeof token !== "string" || token === "") continue;
    const texts = { url: foundText(url, MAX_FOUND_TEXT.url), type: foundText(type, MAX_FOUND_TEXT.type), source: foundText(source, MAX_FOUND_TEXT.source) };
    const truncated = (["url", "type", "source"] as const).filter((field) => texts[field].truncated);
    findings.push({ token, url: texts.url.text, type: texts.type.text, source: texts.source.text, ...(truncated.length > 0 ? { truncated } : {}) });
  }
  return findings;
}

/**
 * GitHub's secret-scanning partner format: a JSON array of `{token, type, url, source}`. Only the
 * array itself is checked here (at most MAX_FINDINGS); each finding is read by `readFindings`,
 * which never refuses one: a report refused for one odd finding would leave every key in it
 * enabled. Fields beyond the four are ignored: the format is GitHub's.
 */
const leakReport = z
  .array(
    z.unknown().meta({
      description:
        "a finding: {token, type, url, source}; one without a string token is skipped, and a url over 2048 or a type or source over 256 characters is cut short",
    }),
  )
  .max(MAX_FINDINGS)
  .meta({
    examples: [[{ token: "hk_8ZbQ2mN4xT7pL1vR9cK3wY6sFhQ", type: "hearth_api_key", url: "https://github.com/octo/repo/blob/abc123/.env", source: "content" }]],
  });

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** `POST /v1/apiKeys:reportLeak`, for secret scanners (docs/leak-reports.md). */
export function leakReportRoutes(router: Router): void {
  router.add({
    method: "POST",
    url: "/v1/apiKeys:reportLeak",
    operationId: "ReportApiKeyLeak",
    summary:
      "For secret scanners: report tokens found in public (GitHub's secret-scanning partner format, signed per Github-Public-Key-Signature / Github-Public-Key-Identifier, or with x-hearth-leak-report-secret). Every Hearth key among them is disabled (EXPOSED) before the answer, which is the same empty list whatever was found",
    tag: "API keys",
    response: z.array(z.never()).max(0),
    auth: false,
    rawBody: true,
    nulInBody: true,
    streamedBody: { "application/json": { schema: z.toJSONSchema(leakReport, { io: "input", target: "draft-2020-12" }) } },
    handler: async ({ deps, request, reply }) => {
      const text = rawJsonBody(request);
      let reporter;
      try {
        reporter = verifyLeakReport(
          deps.config.leakReports,
          {
            signature: header(request.headers["github-public-key-signature"]),
            keyIdentifier: header(request.headers["github-public-key-identifier"]),
            secret: header(request.headers["x-hearth-leak-report-secret"]),
          },
          text ?? "",
        );
      } catch (error) {
        if (error instanceof ApiError) throw await failedAuthentication(deps, request, { operationId: "ReportApiKeyLeak" }, error);
        throw error;
      }
      const body = request.body;
      if (body instanceof MalformedBody) throw invalidArgument(body.message);
      if (!Array.isArray(body)) throw invalidArgument("the request body must be a JSON array of {token, type, url, source}");
      const parsed = leakReport.safeParse(body);
      if (!parsed.success) throw invalidArgument(describeIssue("request body", parsed.error, body));
      await actOnLeakReport(deps, reporter, text ?? "", readFindings(parsed.data), requestMeta(request));
      void reply.header("cache-control", "no-store");
      return [];
    },
  });
}
