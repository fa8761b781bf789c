import { z } from "zod";
import { isValidId } from "../domain/ids.ts";
import { refusedCharacter } from "../domain/display-text.ts";
import { parseTimestamp } from "../domain/time.ts";
import type { ListRequest } from "../store/list.ts";
import type { Config } from "../config.ts";
import { pageTokenKey } from "../service/server-key.ts";
import { readMaskParam } from "./read-mask.ts";
import { example } from "./resources/common.ts";

/** Request schemas shared by the routes (validation and OpenAPI both come from these). */
export const id = (what: string) => z.string().refine(isValidId, { message: `${what} must be 1-63 lowercase letters, digits or '-', starting with a letter` });

/**
 * A string people will read — a display name, a description, a URL: refused (400 naming the field,
 * through the router's `describeIssue`) when it holds a C0 or C1 control, DEL, or a bidi control
 * (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C). See `refusedCharacter`.
 */
export const plainText = () =>
  z.string().superRefine((value, ctx) => {
    const found = refusedCharacter(value);
    if (found) ctx.addIssue({ code: "custom", message: `must not contain control or bidirectional-override characters (found ${found})` });
  });

export const accountParams = z.object({ accountId: example(id("account id"), "my-account") });
export const userParams = accountParams.extend({ userId: example(id("user id"), "ci-bot") });

export const timestamp = (what: string) =>
  z.string().transform((value, ctx) => {
    try {
      return parseTimestamp(value, what);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

const MAX_PAGE_SIZE = 200;
const PAGE_SIZE = "must be a whole number from 0 (the default) upward; above 200 counts as 200";

/**
 * AIP-158 list parameters; `pageSize` 0 or absent means the default, above 200 is coerced to 200.
 * `readMask` (AIP-157) is accepted only by a list that names its resources' fields in
 * `options.readMask`, and parses to the lowerCamel field names (`undefined`: every field) for
 * `applyReadMask`; any other list refuses a `readMask` (400 naming it) rather than ignoring it.
 */
export function listQuery(defaultPageSize: number, options: { readMask?: readonly string[] } = {}) {
  const known = options.readMask;
  return z
    .looseObject({
      // One sentence for every bad value (zod's own would read "expected number, received NaN").
      pageSize: z.coerce.number({ error: PAGE_SIZE }).int({ error: PAGE_SIZE }).min(0, { error: PAGE_SIZE }).optional(),
      pageToken: z.string().max(2048).optional(),
      filter: z.string().optional(),
      orderBy: z.string().max(256).optional(),
      // Listed (and documented) only where supported; elsewhere it reaches the refusal below.
      ...(known ? { readMask: readMaskParam(known) } : {}),
    })
    .superRefine((q, ctx) => {
      if (!known && q.readMask !== undefined) ctx.addIssue({ code: "custom", path: ["readMask"], message: "this list does not support readMask" });
    })
    .transform((q) => ({
      pageSize: !q.pageSize ? defaultPageSize : Math.min(q.pageSize, MAX_PAGE_SIZE),
      pageToken: q.pageToken,
      filter: q.filter,
      orderBy: q.orderBy,
      readMask: q.readMask as string[] | undefined,
    }));
}

/**
 * The query of a list that neither pages nor accepts `readMask` (AIP-157): a `readMask` sent is
 * refused (400 naming it) rather than silently ignored; other parameters are ignored as before.
 */
export const noReadMaskQuery = z.looseObject({}).superRefine((q, ctx) => {
  if (q.readMask !== undefined) ctx.addIssue({ code: "custom", path: ["readMask"], message: "this list does not support readMask" });
});

/** The store's list request from the list parameters; page tokens are signed with the server's page-token key. */
export function listRequest(
  q: { pageSize: number; pageToken?: string | undefined; filter?: string | undefined; orderBy?: string | undefined },
  config: Config,
): ListRequest {
  return { pageSize: q.pageSize, pageToken: q.pageToken || undefined, filter: q.filter, orderBy: q.orderBy, tokenKey: pageTokenKey(config) };
}
