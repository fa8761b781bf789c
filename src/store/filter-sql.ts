import { sql, type RawBuilder, type SqlBool } from "kysely";
import { invalidArgument } from "../domain/errors.ts";
import type { FilterExpr, FilterValue } from "../domain/filter.ts";
import { FIELD_MESSAGES, FIELD_RULES } from "../domain/field-rules.ts";
import { parseTimestamp } from "../domain/time.ts";
import { foldCase } from "../domain/case-folding.ts";
import { quoted } from "../domain/display-text.ts";

/** What a filter field means: its column and how its values are read. */
export interface FieldSpec {
  column: string;
  /**
   * `elapsed_days`: the days (fractional) from the latest of `column` and `since` (epoch ms) to the
   * request's time, compared with <, <=, > or >= and a whole number of days (`unused_days>90`).
   */
  /**
   * `status_name`: a google.rpc status name (one of `values`) compared with `=`, `!=` or `:`, over a
   * `column` holding `NAME: sentence`, or "" for OK (an audit entry's `status_message`).
   */
  type: "string" | "boolean" | "timestamp" | "enum" | "elapsed_days" | "status_name";
  /** Allowed values of an enum field. */
  values?: readonly string[];
  /** Rewrites a value before comparison (e.g. a full resource name to its id). */
  normalize?: (value: string) => string;
  /**
   * Free text in any script: `:` compares foldCase() of the value with `<column>_folded`, which the
   * store writes (store/folded-columns.ts). Without it, `:` folds ASCII letters only, on both
   * dialects alike: for ids, emails and names made of ASCII.
   */
  folded?: true;
  /**
   * An `elapsed_days` field's further times after `column` (SQL expressions of epoch ms; NULL:
   * never), e.g. a key's `last_used` after its `create_time`: the latest non-NULL one counts.
   */
  since?: readonly RawBuilder<unknown>[];
}

export type FieldTable = Readonly<Record<string, FieldSpec>>;

/** The `name` field of a collection: compares ids, accepting either an id or a full resource name. */
export function nameField(collection: string): FieldSpec {
  const prefix = `${collection}/`;
  return { column: "id", type: "string", normalize: (v) => (v.startsWith(prefix) ? v.slice(prefix.length) : v) };
}

function fail(message: string, pos: number): never {
  throw invalidArgument(`invalid filter: ${message} at position ${pos}`);
}

function literal(spec: FieldSpec, field: string, value: FilterValue): string | number {
  switch (spec.type) {
    case "boolean":
      if (value.text === "true") return 1;
      if (value.text === "false") return 0;
      return fail(`field '${field}' takes true or false, not ${quoted(value.text)}`, value.pos);
    case "timestamp": {
      try {
        return parseTimestamp(value.text, "timestamp");
      } catch {
        // A date-time in shape whose date, time or instant does not exist says which.
        const problem = FIELD_RULES.timestamp.problem(value.text);
        const why = problem === FIELD_MESSAGES.timestamp ? "" : ` (${problem})`;
        return fail(`field '${field}' takes an RFC 3339 timestamp, not ${quoted(value.text)}${why}`, value.pos);
      }
    }
    case "enum": {
      const text = spec.normalize ? spec.normalize(value.text) : value.text;
      if (!spec.values?.includes(text)) {
        return fail(`field '${field}' takes one of ${spec.values?.join(", ")}, not ${quoted(value.text)}`, value.pos);
      }
      return text;
    }
    case "string":
      return spec.normalize ? spec.normalize(value.text) : value.text;
    case "elapsed_days":
      return fail(`field '${field}' is compared with <, <=, > or >=`, value.pos);
    case "status_name":
      if (!spec.values?.includes(value.text)) return fail(`field '${field}' takes one of ${spec.values?.join(", ")}, not ${quoted(value.text)}`, value.pos);
      return value.text;
  }
}

const DAY_MS = 86_400_000;

/**
 * `field op N` for an `elapsed_days` field: the latest of its times against the cutoff `now - N
 * days`. "More than N days" means every time is before the cutoff; "fewer" means one is after it.
 * NULL times are never the latest (each term is true or false, never NULL, so NOT works).
 */
function elapsedDays(spec: FieldSpec, expr: Extract<FilterExpr, { kind: "compare" }>, now: number): RawBuilder<SqlBool> {
  const { field, op, value } = expr;
  if (value.quoted || !/^\d{1,6}$/.test(value.text)) fail(`field '${field}' takes a whole number of days, not ${quoted(value.text)}`, value.pos);
  const cutoff = now - Number(value.text) * DAY_MS;
  const times: RawBuilder<unknown>[] = [sql.ref(spec.column), ...(spec.since ?? [])];
  const each = (term: (time: RawBuilder<unknown>) => RawBuilder<unknown>, joiner: string) => sql<SqlBool>`(${sql.join(times.map(term), sql.raw(joiner))})`;
  switch (op) {
    case ">":
      return each((t) => sql`(${t} is null or ${t} < ${cutoff})`, " and ");
    case ">=":
      return each((t) => sql`(${t} is null or ${t} <= ${cutoff})`, " and ");
    case "<":
      return each((t) => sql`(${t} is not null and ${t} > ${cutoff})`, " or ");
    case "<=":
      return each((t) => sql`(${t} is not null and ${t} >= ${cutoff})`, " or ");
    default:
      return fail(`'${op}' does not apply to field '${field}': use <, <=, > or >=`, expr.fieldPos);
  }
}

/** `field = NAME` (or `:`, `!=`) for a `status_name` field: the column starts with `NAME: `, or is "" for OK. */
function statusName(spec: FieldSpec, expr: Extract<FilterExpr, { kind: "compare" }>): RawBuilder<SqlBool> {
  if (expr.op !== "=" && expr.op !== "!=" && expr.op !== ":") fail(`'${expr.op}' does not apply to field '${expr.field}': use =, != or :`, expr.fieldPos);
  const name = literal(spec, expr.field, expr.value) as string;
  const column = sql.ref(spec.column);
  const match = name === "OK" ? sql<SqlBool>`(${column} = '')` : sql<SqlBool>`(${column} like ${`${escapeLike(name)}: %`} escape '\\')`;
  return expr.op === "!=" ? sql<SqlBool>`(not ${match})` : match;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const lowerAscii = (text: string): string => text.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/**
 * Compiles a parsed filter into a SQL condition over the given fields; unknown fields are
 * INVALID_ARGUMENT. `now` (epoch ms) is asked only by `elapsed_days` fields.
 */
export function compileFilter(expr: FilterExpr, fields: FieldTable, now: () => number = Date.now): RawBuilder<SqlBool> {
  switch (expr.kind) {
    case "and":
    case "or": {
      const parts = expr.items.map((item) => compileFilter(item, fields, now));
      return sql<SqlBool>`(${sql.join(parts, sql.raw(expr.kind === "and" ? " and " : " or "))})`;
    }
    case "not":
      return sql<SqlBool>`(not ${compileFilter(expr.item, fields, now)})`;
    case "compare": {
      const spec = Object.hasOwn(fields, expr.field) ? fields[expr.field] : undefined;
      if (!spec) {
        fail(`unknown field '${expr.field}' (known fields: ${Object.keys(fields).join(", ")})`, expr.fieldPos);
      }
      if (spec.type === "elapsed_days") return elapsedDays(spec, expr, now());
      if (spec.type === "status_name") return statusName(spec, expr);
      const column = sql.ref(spec.column);
      if (expr.op === ":") {
        if (spec.type === "string") {
          const text = literal(spec, expr.field, expr.value) as string;
          // SQLite's lower() and PostgreSQL's under the C collation fold ASCII only; anything wider is folded by Hearth.
          if (spec.folded) return sql<SqlBool>`(${sql.ref(`${spec.column}_folded`)} like ${`%${escapeLike(foldCase(text))}%`} escape '\\')`;
          return sql<SqlBool>`(lower(${column}) like ${`%${escapeLike(lowerAscii(text))}%`} escape '\\')`;
        }
        if (spec.type === "enum" || spec.type === "boolean") {
          return sql<SqlBool>`(${column} = ${literal(spec, expr.field, expr.value)})`;
        }
        fail(`':' does not apply to field '${expr.field}'`, expr.fieldPos);
      }
      if (spec.type === "boolean" && expr.op !== "=" && expr.op !== "!=") {
        fail(`'${expr.op}' does not apply to field '${expr.field}'`, expr.fieldPos);
      }
      return sql<SqlBool>`(${column} ${sql.raw(expr.op === "!=" ? "<>" : expr.op)} ${literal(spec, expr.field, expr.value)})`;
    }
  }
}
