import { sql, type Kysely } from "kysely";
import { foldCase } from "../domain/case-folding.ts";
import type { Schema } from "./schema.ts";

type WithFolded<T, C extends keyof T & string> = T & { [K in C as `${K}_folded`]: undefined extends T[K] ? string | undefined : string };

/**
 * `values` (a row to insert or a patch) with `<column>_folded` = foldCase(value) beside each of
 * `columns` it sets: what a filter's `:` compares (store/filter-sql.ts), so every writer of a
 * searchable column goes through here.
 */
export function withFolded<T extends object, C extends keyof T & string>(values: T, columns: readonly C[]): WithFolded<T, C> {
  const out: Record<string, unknown> = { ...(values as Record<string, unknown>) };
  for (const column of columns) {
    const value = out[column];
    if (typeof value === "string") out[`${column}_folded`] = foldCase(value);
  }
  return out as WithFolded<T, C>;
}

/** Rows read and written per statement while filling. */
const FILL_BATCH = 500;

/**
 * Fills `<column>_folded` for rows written before the column existed (an upgrade migration): rows
 * are read in `key` order a batch at a time and written back with one `UPDATE … FROM (VALUES …)`
 * per batch (SQLite ≥ 3.33 and PostgreSQL both name the VALUES columns column1, column2, …).
 */
export async function fillFolded(db: Kysely<Schema>, table: keyof Schema, key: readonly string[], columns: readonly string[]): Promise<void> {
  const keys = sql.join(key.map((k) => sql.ref(k)));
  const valueColumn = (i: number) => sql.ref(`v.column${i + 1}`);
  let after: unknown[] | undefined;
  for (;;) {
    const from = after ? sql`where (${keys}) > (${sql.join(after)})` : sql``;
    const { rows } = await sql<Record<string, string>>`select ${sql.join([...key, ...columns].map((c) => sql.ref(c)))} from ${sql.table(table)} ${from}
      order by ${keys} limit ${FILL_BATCH}`.execute(db);
    if (rows.length === 0) return;
    const values = rows.map((row) => sql`(${sql.join([...key.map((k) => row[k]), ...columns.map((c) => foldCase(row[c] ?? ""))])})`);
    const sets = columns.map((c, i) => sql`${sql.ref(`${c}_folded`)} = ${valueColumn(key.length + i)}`);
    const match = key.map((k, i) => sql`${sql.ref(`${table}.${k}`)} = ${valueColumn(i)}`);
    await sql`update ${sql.table(table)} set ${sql.join(sets)} from (values ${sql.join(values)}) as v where ${sql.join(match, sql` and `)}`.execute(db);
    const last = rows.at(-1)!;
    after = key.map((k) => last[k]);
  }
}
