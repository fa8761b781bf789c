import { createHash } from "node:crypto";
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from "kysely";
import { invalidArgument } from "../domain/errors.ts";
import { parseFilter } from "../domain/filter.ts";
import { compileFilter, type FieldTable } from "./filter-sql.ts";

/**
 * Filtered, ordered, keyset-paginated lists. A page token holds the sort values of the last row
 * (not an offset), so a page costs an index range scan however deep it is, and rows inserted
 * meanwhile are neither skipped nor repeated. `totalSize` is counted with the first page and
 * carried by the token (AIP-158 allows it to be an estimate).
 */
export interface ListTable {
  fields: FieldTable;
  /** Sortable fields (snake_case) → column. */
  order: Readonly<Record<string, string>>;
  defaultOrderBy: string;
  /** Unique column appended to every order to make it total. */
  idColumn: string;
}

export interface ListRequest {
  filter?: string | undefined;
  orderBy?: string | undefined;
  pageSize: number;
  pageToken?: string | undefined;
  /** Anything else that shapes the result (time range…): a token is only valid with the same scope. */
  scope?: string | undefined;
}

export interface ListResult<Row> {
  rows: Row[];
  nextPageToken: string;
  totalSize: number;
}

interface OrderTerm {
  column: string;
  desc: boolean;
}

function parseOrderBy(orderBy: string, table: ListTable): OrderTerm[] {
  const terms: OrderTerm[] = [];
  for (const part of orderBy.split(",")) {
    const words = part.trim().split(/\s+/);
    const [field, direction, ...extra] = words;
    const column = field && Object.hasOwn(table.order, field) ? table.order[field] : undefined;
    if (!column || extra.length > 0 || (direction !== undefined && direction !== "asc" && direction !== "desc")) {
      throw invalidArgument(
        `invalid orderBy ${JSON.stringify(orderBy)}: use fields ${Object.keys(table.order).join(", ")}, each optionally followed by asc or desc`,
      );
    }
    terms.push({ column, desc: direction === "desc" });
  }
  // The tiebreaker runs the same way as the first term, so one index scan in one direction serves the page.
  if (!terms.some((t) => t.column === table.idColumn)) terms.push({ column: table.idColumn, desc: terms[0]?.desc ?? false });
  return terms;
}

function fingerprint(req: ListRequest, orderBy: string): string {
  return createHash("sha256").update(JSON.stringify([req.filter ?? "", orderBy, req.scope ?? ""])).digest("base64url").slice(0, 12);
}

interface Cursor {
  values: unknown[];
  totalSize: number;
}

function decodeToken(token: string, expectedFingerprint: string, width: number): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { f?: unknown; v?: unknown; t?: unknown };
    if (parsed.f === expectedFingerprint && Array.isArray(parsed.v) && parsed.v.length === width && Number.isSafeInteger(parsed.t)) {
      return { values: parsed.v, totalSize: parsed.t as number };
    }
  } catch {
    // fall through to the one error below
  }
  throw invalidArgument("invalid pageToken: it is malformed or was issued for a different filter or orderBy");
}

/** Rows strictly after `values` in the order given by `terms`. */
function after(terms: OrderTerm[], values: unknown[]): RawBuilder<SqlBool> {
  const alternatives = terms.map((term, i) => {
    const equal = terms.slice(0, i).map((t, j) => sql`${sql.ref(t.column)} = ${values[j]}`);
    const beyond = sql`${sql.ref(term.column)} ${sql.raw(term.desc ? "<" : ">")} ${values[i]}`;
    return sql`(${sql.join([...equal, beyond], sql.raw(" and "))})`;
  });
  return sql<SqlBool>`(${sql.join(alternatives, sql.raw(" or "))})`;
}

/**
 * Runs one page of a list. `base` selects from one table with its scope (account…) already applied.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function listPage<Row>(base: SelectQueryBuilder<any, any, any>, table: ListTable, req: ListRequest): Promise<ListResult<Row>> {
  const orderBy = req.orderBy?.trim() || table.defaultOrderBy;
  const terms = parseOrderBy(orderBy, table);
  const expr = parseFilter(req.filter);
  let query = base;
  if (expr) query = query.where(compileFilter(expr, table.fields));
  const fp = fingerprint(req, orderBy);

  let page = query.selectAll();
  const cursor = req.pageToken ? decodeToken(req.pageToken, fp, terms.length) : undefined;
  if (cursor) page = page.where(after(terms, cursor.values));
  for (const term of terms) page = page.orderBy(term.column, term.desc ? "desc" : "asc");
  // The exact count is taken with the first page and carried in the token: later pages cost only
  // their index range, however large the list.
  const [rows, totalSize] = await Promise.all([
    page.limit(req.pageSize + 1).execute() as Promise<Row[]>,
    cursor
      ? cursor.totalSize
      : (query.select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow() as Promise<{ n: number | string }>).then((c) => Number(c.n)),
  ]);

  let nextPageToken = "";
  if (rows.length > req.pageSize) {
    rows.length = req.pageSize;
    const last = rows.at(-1) as Record<string, unknown>;
    const values = terms.map((t) => last[t.column]);
    nextPageToken = Buffer.from(JSON.stringify({ f: fp, v: values, t: totalSize })).toString("base64url");
  }
  return { rows, nextPageToken, totalSize };
}
