import { Option, type Command } from "commander";
import type { ApiRequest } from "./client.ts";
import type { Context } from "./context.ts";
import { parsePageSize } from "./parsers.ts";
import { wholeNumber } from "../../domain/whole-number.ts";

/**
 * The list flags and paging. By default a list follows `nextPageToken` and prints everything; with
 * `--page-size`, `--page-token` or `--no-paginate` it prints one page and the token of the next.
 */
export interface ListFlags {
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
  paginate: boolean;
}

/** Pages requested while following tokens: the server's maximum, to keep round trips few. */
const FOLLOW_PAGE_SIZE = 200;
/** A server that kept returning tokens would otherwise loop forever. */
const MAX_PAGES = 10_000;

export function withListFlags(command: Command, filterExample: string): Command {
  return command
    .option("--filter <expr>", `AIP-160 filter, e.g. ${filterExample}`)
    .option("--order-by <fields>", 'sort order, e.g. "create_time desc"')
    .addOption(new Option("--page-size <n>", "print one page of at most n items, then the next page token").argParser(parsePageSize))
    .option("--page-token <token>", "print the page that starts at this token; all digits: that page number (0 is the first)")
    .option("--no-paginate", "print only the first page instead of following page tokens");
}

type Page = Record<string, unknown> & { nextPageToken?: string };

/**
 * Page `n` from the first `page`, counted from 0 as Fireworks' firectl reference counts them
 * ("--page-token: The page to list. A number from 0 to the total number of pages (number of
 * entities / page size)", e.g. docs.fireworks.ai firectl `list api-key`): follows `nextPageToken`
 * n times. The server's tokens stay opaque; past the last page the answer is an empty page.
 */
async function walkToPage(ctx: Context, request: ApiRequest, query: NonNullable<ApiRequest["query"]>, first: Page, field: string, n: number): Promise<Page> {
  let page = first;
  for (let at = 0; at < Math.min(n, MAX_PAGES); at++) {
    if (!page.nextPageToken) return { ...page, [field]: [], nextPageToken: "" };
    page = await ctx.send<Page>({ ...request, query: { ...query, pageToken: page.nextPageToken } });
  }
  return page;
}

/**
 * Lists `field` items of `request` and prints them: the API's JSON with `-o json` (pages merged into
 * one answer when following), otherwise the table `render` builds.
 */
export async function list<T>(ctx: Context, request: ApiRequest, field: string, flags: ListFlags, render: (items: T[]) => string): Promise<void> {
  const onePage = flags.pageSize !== undefined || flags.pageToken !== undefined || !flags.paginate;
  const query = {
    ...request.query,
    filter: flags.filter,
    orderBy: flags.orderBy,
    pageSize: onePage ? flags.pageSize : FOLLOW_PAGE_SIZE,
    pageToken: flags.pageToken,
  };
  const pageNumber = flags.pageToken === undefined ? undefined : wholeNumber(flags.pageToken);
  if (pageNumber !== undefined) query.pageToken = undefined;
  if (ctx.dryRun) {
    ctx.out(ctx.describe({ ...request, query }));
    if (!onePage) ctx.note("(the same request would be repeated with pageToken while the answer has a nextPageToken)");
    if (pageNumber !== undefined && pageNumber > 0) ctx.note(`(then repeated with each answer's nextPageToken until page ${pageNumber})`);
    return;
  }
  let page = await ctx.send<Page>({ ...request, query });
  if (pageNumber !== undefined) page = await walkToPage(ctx, request, query, page, field, pageNumber);
  if (onePage) {
    ctx.show(page, (p) => {
      const token = p.nextPageToken ?? "";
      return render((p[field] as T[] | undefined) ?? []) + (token ? `\nNext page token: ${token}\n` : "");
    });
    return;
  }
  const items = [...((page[field] as T[] | undefined) ?? [])];
  const seen = new Set<string>();
  for (let n = 1; page.nextPageToken && !seen.has(page.nextPageToken) && n < MAX_PAGES; n++) {
    seen.add(page.nextPageToken);
    page = await ctx.send<Page>({ ...request, query: { ...query, pageToken: page.nextPageToken } });
    items.push(...((page[field] as T[] | undefined) ?? []));
  }
  ctx.show({ ...page, [field]: items, nextPageToken: "" }, () => render(items));
}
