import { sql, type RawBuilder, type SqlBool } from "kysely";
import { invalidArgument } from "../domain/errors.ts";
import type { FilterExpr, FilterValue } from "../domain/filter.ts";
import { parseTimestamp } from "../domain/time.ts";
import { foldCase } from "../domain/case-folding.ts";

/** What a filter field means: its column and how its values are read. */
export interface FieldSpec {
  column: string;
  type: "string" | "boolean" | "timestamp" | "enum";
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
      return fail(`field '${field}' takes true or false, not ${JSON.stringify(value.text)}`, value.pos);
    case "timestamp": {
      try {
        return parseTimestamp(value.text, "timestamp");
      } catch {
        return fail(`field '${field}' takes an RFC 3339 timestamp, not ${JSON.stringify(value.text)}`, value.pos);
      }
    }
    case "enum": {
      const text = spec.normalize ? spec.normalize(value.text) : value.text;
      if (!spec.values?.includes(text)) {
        return fail(`field '${field}' takes one of ${spec.values?.join(", ")}, not ${JSON.stringify(value.text)}`, value.pos);
      }
      return text;
    }
    case "string":
      return spec.normalize ? spec.normalize(value.text) : value.text;
  }
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const lowerAscii = (text: string): string => text.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** Compiles a parsed filter into a SQL condition over the given fields; unknown fields are INVALID_ARGUMENT. */
export function compileFilter(expr: FilterExpr, fields: FieldTable): RawBuilder<SqlBool> {
  switch (expr.kind) {
    case "and":
    case "or": {
      const parts = expr.items.map((item) => compileFilter(item, fields));
      return sql<SqlBool>`(${sql.join(parts, sql.raw(expr.kind === "and" ? " and " : " or "))})`;
    }
    case "not":
      return sql<SqlBool>`(not ${compileFilter(expr.item, fields)})`;
    case "compare": {
      const spec = Object.hasOwn(fields, expr.field) ? fields[expr.field] : undefined;
      if (!spec) {
        fail(`unknown field '${expr.field}' (known fields: ${Object.keys(fields).join(", ")})`, expr.fieldPos);
      }
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
