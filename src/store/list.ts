import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { sql, type CompiledQuery, type RawBuilder, type SelectQueryBuilder, type SqlBool } from "kysely";
import { invalidArgument } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import { parseFilter } from "../domain/filter.ts";
import { compileFilter, type FieldTable } from "./filter-sql.ts";

/**
 * Filtered, ordered, keyset-paginated lists. A page token holds the sort values of the last row
 * (not an offset), so a page costs an index range scan however deep it is, and rows inserted
 * meanwhile are neither skipped nor repeated. `totalSize` is counted with the first page and
 * carried by the token (AIP-158 allows it to be an estimate).
 *
 * Tokens are signed (HMAC-SHA256, RFC 2104) with a key the caller passes in, derived from the
 * server secret so every process sharing the database accepts every other's tokens. A token is
 * only ever built from rows the server read, so its cursor values always have their column's type:
 * a forged or altered one (an object where a string belongs, a string compared with a bigint
 * column) is refused as INVALID_ARGUMENT before it reaches SQL, where it would be a 500.
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
  /**
   * What shapes the result but is not a parameter of the list's query (the time range as the caller
   * gave it…): a token is only valid with the same scope. The query's own parameters always bind it.
   */
  scope?: string | undefined;
  /** Signs and checks page tokens (at least 32 bytes); the same on every process of one deployment. */
  tokenKey: Buffer;
  /**
   * The time (epoch ms) filters on elapsed time (`unused_days`) count to; default the system time.
   * A page token carries the first page's, so every page of one list answers the same question.
   */
  now?: number | undefined;
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
      throw invalidArgument(`invalid orderBy ${quoted(orderBy)}: use fields ${Object.keys(table.order).join(", ")}, each optionally followed by asc or desc`);
    }
    terms.push({ column, desc: direction === "desc" });
  }
  // The tiebreaker runs the same way as the first term, so one index scan in one direction serves the page.
  if (!terms.some((t) => t.column === table.idColumn)) terms.push({ column: table.idColumn, desc: terms[0]?.desc ?? false });
  return terms;
}

/**
 * What a token is bound to: the list's query — its SQL (table, filter) AND its parameters (the
 * account, the parent user, the principal, the filter's values: everything that scopes the rows) —,
 * the order and `scope`. Binding the parameters is what keeps a token of one account's list from
 * continuing another account's list of the same shape.
 */
function fingerprint(req: ListRequest, orderBy: string, list: CompiledQuery): string {
  const parameters = list.parameters.map((p) => (typeof p === "bigint" ? p.toString() : p));
  return createHash("sha256")
    .update(JSON.stringify([req.filter ?? "", orderBy, req.scope ?? "", list.sql, parameters]))
    .digest("base64url")
    .slice(0, 16);
}

const mac = (key: Buffer, body: string): Buffer => createHmac("sha256", key).update(body).digest();

function encodeToken(key: Buffer, cursor: { f: string; v: unknown[]; t: number; n?: number }): string {
  const body = Buffer.from(JSON.stringify(cursor)).toString("base64url");
  return `${body}.${mac(key, body).toString("base64url")}`;
}

interface Cursor {
  values: unknown[];
  totalSize: number;
}

type TokenBody = { f?: unknown; v?: unknown; t?: unknown; n?: unknown };

/** The body of a token whose MAC verifies, else undefined (then `decodeToken` refuses it). */
function openToken(key: Buffer, token: string): TokenBody | undefined {
  try {
    const dot = token.lastIndexOf(".");
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const expected = mac(key, body);
    // Constant time: how much of a guessed MAC matched must not show in the response time.
    if (dot < 1 || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (given.toString("base64url") !== token.slice(dot + 1)) return undefined;
    const parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as unknown;
    return parsed !== null && typeof parsed === "object" ? (parsed as TokenBody) : undefined;
  } catch {
    return undefined;
  }
}

function decodeToken(opened: TokenBody | undefined, expectedFingerprint: string, width: number): Cursor {
  const parsed = opened ?? {};
  if (parsed.f === expectedFingerprint && Array.isArray(parsed.v) && parsed.v.length === width && Number.isSafeInteger(parsed.t)) {
    return { values: parsed.v, totalSize: parsed.t as number };
  }
  throw invalidArgument("invalid pageToken: it is malformed or altered, or was issued for a different filter, orderBy or list; start again without pageToken");
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
 * Runs one page of a list. `base` selects from one table with its scope (account, parent…) already
 * applied; a page token is valid only for the same `base` with the same parameters. `unbound` adds
 * conditions whose values move with the clock (a default time range) and so must not bind the
 * token; what the caller actually gave for them belongs in `req.scope`.
 */
export async function listPage<Row>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  base: SelectQueryBuilder<any, any, any>,
  table: ListTable,
  req: ListRequest,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  unbound: (query: SelectQueryBuilder<any, any, any>) => SelectQueryBuilder<any, any, any> = (query) => query,
): Promise<ListResult<Row>> {
  const orderBy = req.orderBy?.trim() || table.defaultOrderBy;
  const terms = parseOrderBy(orderBy, table);
  const expr = parseFilter(req.filter);
  const opened = req.pageToken ? openToken(req.tokenKey, req.pageToken) : undefined;
  // A filter on elapsed time counts to the first page's time (carried by the token, so signed).
  const now = Number.isSafeInteger(opened?.n) ? (opened!.n as number) : (req.now ?? Date.now());
  let clockUsed = false;
  let query = base;
  if (expr) {
    query = query.where(
      compileFilter(expr, table.fields, () => {
        clockUsed = true;
        return now;
      }),
    );
  }
  const fp = fingerprint(req, orderBy, query.selectAll().compile());
  query = unbound(query);
  let page = query.selectAll();
  const cursor = req.pageToken ? decodeToken(opened, fp, terms.length) : undefined;
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
    nextPageToken = encodeToken(req.tokenKey, { f: fp, v: values, t: totalSize, ...(clockUsed ? { n: now } : {}) });
  }
  return { rows, nextPageToken, totalSize };
}
