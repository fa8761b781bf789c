/**
 * @module `readMask` (AIP-157 partial responses) for the lists, gets and other reads that accept it: the mask
 * is parsed and checked by the route's query schema (`readMaskParam`), then `applyReadMask` keeps
 * only the named fields of each resource.
 */
import { z } from "zod";
import { quoted } from "../domain/display-text.ts";

/** protojson's JSON name of a proto field name: `service_account` → `serviceAccount`. */
const camel = (field: string): string => field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Every top-level field of a resource type, listed once: the record must name each key of `T`,
 * so a field added to the resource's view fails the type check until it is listed here too.
 * Use: `fieldNames<User>()({ name: true, displayName: true, … })`.
 */
export function fieldNames<T>(): (fields: { [K in keyof T & string]-?: true }) => readonly (keyof T & string)[] {
  return (fields) => Object.keys(fields) as (keyof T & string)[];
}

/**
 * The `readMask` query parameter of a route whose resources have the fields `known` (AIP-157).
 * Accepts a comma-separated list of top-level field names, lowerCamel or snake_case; absent, empty
 * or `*` means every field. Parses to the lowerCamel names (`undefined` for every field).
 *
 * A name not in `known` is refused by the route's query validation (400 INVALID_ARGUMENT naming
 * it and listing the known fields).
 */
export function readMaskParam(known: readonly string[]) {
  return z
    .string()
    .max(512)
    .optional()
    .transform((mask, ctx): string[] | undefined => {
      if (mask === undefined || mask.trim() === "" || mask.trim() === "*") return undefined;
      const fields: string[] = [];
      for (const raw of mask.split(",")) {
        const given = raw.trim();
        const field = camel(given);
        if (!known.includes(field)) {
          ctx.addIssue({ code: "custom", message: `unknown field ${quoted(given)} (fields: ${known.join(", ")})` });
          return z.NEVER;
        }
        fields.push(field);
      }
      return fields;
    })
    .meta({ description: `Partial response (AIP-157): the fields to return, comma-separated (name is always returned). Fields: ${known.join(", ")}` });
}

/** The query of a get that accepts `readMask` over the fields `known` (see `readMaskParam`). */
export const readMaskQuery = (known: readonly string[]) => z.object({ readMask: readMaskParam(known) });

/**
 * Keeps only the `fields` (parsed by `readMaskParam`) of each resource, and always its `name` (a
 * response that is not a resource, such as `:getUploadEndpoint`'s, has none); `fields` undefined
 * keeps everything. A named field the resource does not carry (an optional one that is unset) is left out.
 */
export function applyReadMask<T extends object>(items: readonly T[], fields: readonly string[] | undefined): Partial<T>[] {
  if (!fields) return [...items];
  return items.map((item) => {
    const source = item as Record<string, unknown>;
    const out: Record<string, unknown> = Object.hasOwn(source, "name") ? { name: source.name } : {};
    for (const f of fields) if (Object.hasOwn(source, f)) out[f] = source[f];
    return out as Partial<T>;
  });
}

/** `applyReadMask` of one resource (a get). */
export function applyReadMaskTo<T extends object>(item: T, fields: readonly string[] | undefined): Partial<T> {
  return applyReadMask([item], fields)[0]!;
}
