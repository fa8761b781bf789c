import { z } from "zod";
import "../domain/zod-messages.ts";
import { DISPLAY_NAME_MAX, FIELD_MESSAGES, FIELD_RULES, refusal, type FieldRule } from "../domain/field-rules.ts";
import { WHOLE_SENTENCE } from "../domain/describe-issue.ts";
import { parseDuration } from "../domain/time.ts";
import { DECIMAL_DIGITS } from "../domain/whole-number.ts";
import type { ListRequest } from "../store/list.ts";
import type { Config } from "../config.ts";
import { pageTokenKey } from "../service/server-key.ts";
import { readMaskParam } from "./read-mask.ts";
import { example } from "./resources/common.ts";

/** Request schemas shared by the routes (validation and OpenAPI both come from these). */

/**
 * A string field checked by a rule of `domain/field-rules.ts`: refused with the rule's sentence
 * naming `field`, and documented in `/openapi.json` with the rule's pattern, maxLength or enum.
 */
export const ruled = (rule: FieldRule, field: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const message = refusal(rule, field, value);
      if (message !== undefined) ctx.addIssue({ code: "custom", message, params: { [WHOLE_SENTENCE]: true } });
    })
    .meta({ ...rule.schema });

/** The id of an existing resource, in a path (ids stored before AIP-122's last-character rule included). */
export const id = (what: string) => ruled(FIELD_RULES.storedId, what);

/** The id of a resource being created (AIP-122), e.g. `?userId=`. */
export const newId = (what: string) => ruled(FIELD_RULES.id, what);

/**
 * A string people will read — a description, a URL: refused (400 naming the field, through the
 * router's `describeIssue`) when it holds a control, format or bidi character (see
 * `refusedCharacter`).
 */
export const plainText = () =>
  z.string().superRefine((value, ctx) => {
    const problem = FIELD_RULES.plainText.problem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A display name: plain text shorter than 64 characters (`maxLength` 63 in `/openapi.json`). */
export const displayName = () => plainText().max(DISPLAY_NAME_MAX, { error: FIELD_MESSAGES.displayName });

/** An annotation key (AIP-128, as Kubernetes): an optional DNS-subdomain prefix and `/`, then up to 63 letters, digits, `-`, `_`, `.`. */
const ANNOTATION_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;

/**
 * A resource's `annotations` (AIP-128; Fireworks' deployments and API keys): a string→string map of
 * at most 64 entries, each key an `ANNOTATION_KEY`, each value plain text of at most 1024 characters.
 * Beyond these bounds, a 400 naming the field (and the key).
 */
export const annotations = () =>
  z.record(z.string(), plainText().max(1024)).superRefine((a, ctx) => {
    const keys = Object.keys(a);
    if (keys.length > 64) ctx.addIssue({ code: "custom", message: "at most 64 annotations" });
    for (const key of keys.filter((k) => !ANNOTATION_KEY.test(k)))
      ctx.addIssue({ code: "custom", path: [key], message: "annotation keys are up to 63 letters, digits, '-', '_' and '.', with an optional 'prefix/'" });
  });

export const accountParams = z.object({ accountId: example(id("account id"), "my-account") });
export const userParams = accountParams.extend({ userId: example(id("user id"), "ci-bot") });

/** An RFC 3339 timestamp (`format: date-time` in `/openapi.json`), parsed to epoch milliseconds. */
// The rule has read the value (`readTimestamp`): every field exists, so Date.parse gives its instant exactly.
export const timestamp = (what: string) => ruled(FIELD_RULES.timestamp, what).transform((value) => Date.parse(value));

/** A protobuf Duration in JSON form (`"86400s"`), parsed to milliseconds. */
export const duration = (what: string) => ruled(FIELD_RULES.duration, what).transform((value) => parseDuration(value, what));

const MAX_PAGE_SIZE = 200;
const PAGE_SIZE = `must be a whole number in decimal digits, 0 (the default) or more; above ${MAX_PAGE_SIZE} counts as ${MAX_PAGE_SIZE}`;

/**
 * `pageSize` (AIP-158): decimal digits only; any number of them above MAX_PAGE_SIZE counts as
 * MAX_PAGE_SIZE (`9999999999999999999999` too, past what a double holds exactly).
 */
const pageSize = z.preprocess(
  (value) => (typeof value === "string" && DECIMAL_DIGITS.test(value) ? Math.min(Number(value), MAX_PAGE_SIZE) : value),
  // One sentence for every bad value (zod's own would read "expected number, received string").
  z.number({ error: PAGE_SIZE }).int({ error: PAGE_SIZE }).min(0, { error: PAGE_SIZE }),
);

/**
 * AIP-158 list parameters; `pageSize` (decimal digits) 0 or absent means the default, above 200 counts as 200.
 * `readMask` (AIP-157) is accepted only by a list that names its resources' fields in
 * `options.readMask`, and parses to the lowerCamel field names (`undefined`: every field) for
 * `applyReadMask`; any other list refuses a `readMask` as an unknown parameter rather than ignoring it.
 */
export function listQuery<const E extends z.ZodRawShape = {}>(defaultPageSize: number, options: { readMask?: readonly string[]; extra?: E } = {}) {
  const known = options.readMask;
  const extra = options.extra ?? ({} as E);
  return z
    .object({
      pageSize: pageSize.optional(),
      pageToken: z.string().max(2048).optional(),
      filter: z.string().optional(),
      orderBy: z.string().max(256).optional(),
      // Declared (and documented) only where supported; elsewhere it is an unknown parameter, refused.
      ...(known ? { readMask: readMaskParam(known) } : {}),
      // A list's own parameters (audit time range, showDeleted) in the same object: an intersection
      // with a second object would fail to merge a transformed value when either side is refused.
      ...extra,
    })
    .transform((parsed) => {
      const q = parsed as Record<string, unknown>;
      return {
        ...(Object.fromEntries(Object.keys(extra).map((k) => [k, q[k]])) as { [K in keyof E]: z.output<E[K]> }),
        pageSize: !q.pageSize ? defaultPageSize : (q.pageSize as number),
        pageToken: q.pageToken as string | undefined,
        filter: q.filter as string | undefined,
        orderBy: q.orderBy as string | undefined,
        readMask: q.readMask as string[] | undefined,
      };
    });
}

/**
 * The query of a route that takes any parameter: it reads what it needs itself (an identity
 * provider's redirect back, which adds parameters of its own) or nothing at all (a probe: a load
 * balancer's health check, a gateway's key check, which Caddy's forward_auth sends with the
 * client's own query string; the OpenAI-compatible routes, whose clients may add their own, such as
 * Azure's `api-version`; the public audit keys). Every other route refuses a parameter it does not
 * declare (`normalizeQuery`).
 */
export const anyQuery = z.looseObject({});

/** The store's list request from the list parameters; page tokens are signed with the server's page-token key. */
export function listRequest(
  q: { pageSize: number; pageToken?: string | undefined; filter?: string | undefined; orderBy?: string | undefined },
  config: Config,
): ListRequest {
  return { pageSize: q.pageSize, pageToken: q.pageToken || undefined, filter: q.filter, orderBy: q.orderBy, tokenKey: pageTokenKey(config) };
}
