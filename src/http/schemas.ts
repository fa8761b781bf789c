import { z } from "zod";
import { isValidId } from "../domain/ids.ts";
import { refusedCharacter } from "../domain/display-text.ts";
import { parseTimestamp } from "../domain/time.ts";
import type { ListRequest } from "../store/list.ts";
import type { Config } from "../config.ts";
import { pageTokenKey } from "../service/server-key.ts";

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

export const accountParams = z.object({ accountId: id("account id") });
export const userParams = z.object({ accountId: id("account id"), userId: id("user id") });

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

/** AIP-158 list parameters; `pageSize` 0 or absent means the default, above 200 is coerced to 200. */
export function listQuery(defaultPageSize: number) {
  return z
    .object({
      // One sentence for every bad value (zod's own would read "expected number, received NaN").
      pageSize: z.coerce.number({ error: PAGE_SIZE }).int({ error: PAGE_SIZE }).min(0, { error: PAGE_SIZE }).optional(),
      pageToken: z.string().max(2048).optional(),
      filter: z.string().optional(),
      orderBy: z.string().max(256).optional(),
      readMask: z.string().max(512).optional(),
    })
    .transform((q) => ({
      ...q,
      pageSize: !q.pageSize ? defaultPageSize : Math.min(q.pageSize, MAX_PAGE_SIZE),
    }));
}

/** The store's list request from the list parameters; page tokens are signed with the server's page-token key. */
export function listRequest(
  q: { pageSize: number; pageToken?: string | undefined; filter?: string | undefined; orderBy?: string | undefined },
  config: Config,
): ListRequest {
  return { pageSize: q.pageSize, pageToken: q.pageToken || undefined, filter: q.filter, orderBy: q.orderBy, tokenKey: pageTokenKey(config) };
}
