import { z } from "zod";
import { invalidArgument } from "../../domain/errors.ts";
import { describeIssue } from "../../domain/describe-issue.ts";
import { escapeRefused } from "../../domain/display-text.ts";
import { ApiError } from "../../domain/errors.ts";
import { actOnLeakReport, verifyLeakReport } from "../../service/leak-reports.ts";
import { failedAuthentication } from "../auth-failures.ts";
import { MalformedBody } from "../malformed-body.ts";
import { rawJsonBody } from "../raw-body.ts";
import { requestMeta } from "../request-meta.ts";
import type { Router } from "../route.ts";

/** The most findings one report may carry; a scanner with more sends several reports. */
const MAX_FINDINGS = 1000;

/** A finding's text kept as sent but with control, bidi and invisible characters escaped (`escapeRefused`): refusing it would leave the key enabled. */
const foundText = (max: number) => z.string().max(max).transform(escapeRefused);

/**
 * GitHub's secret-scanning partner format: a JSON array of `{token, type, url, source}`. Fields
 * beyond these are ignored rather than refused: the format is GitHub's, and a report refused for a
 * field GitHub adds one day would leave its keys enabled.
 */
const leakReport = z
  .array(
    z.object({
      token: z.string().min(1).max(1024),
      type: foundText(256).default(""),
      url: foundText(2048).pipe(z.string().min(1)),
      source: foundText(256).default(""),
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
      if (body === undefined) throw invalidArgument("the request body must be a JSON array of {token, type, url, source}");
      const parsed = leakReport.safeParse(body);
      if (!parsed.success) throw invalidArgument(describeIssue("request body", parsed.error, body));
      await actOnLeakReport(deps, reporter, parsed.data, requestMeta(request));
      void reply.header("cache-control", "no-store");
      return [];
    },
  });
}
