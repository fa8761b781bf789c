import { invalidArgument } from "../domain/errors.ts";

const camel = (field: string): string => field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Keeps only the fields a `readMask` names (camelCase or snake_case) out of `known`; `name` is
 * always kept. An unknown field is INVALID_ARGUMENT.
 */
export function applyReadMask<T extends object>(items: T[], readMask: string | undefined, known: readonly string[]): Partial<T>[] {
  if (!readMask || readMask.trim() === "" || readMask.trim() === "*") return items;
  const fields = readMask.split(",").map((f) => camel(f.trim()));
  for (const f of fields) {
    if (!known.includes(f)) throw invalidArgument(`invalid readMask: unknown field "${f}" (fields: ${known.join(", ")})`);
  }
  return items.map((item) => {
    const source = item as Record<string, unknown>;
    const out: Record<string, unknown> = { name: source.name };
    for (const f of fields) if (f in source) out[f] = source[f];
    return out as Partial<T>;
  });
}
