import { invalidArgument } from "../domain/errors.ts";

const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Applies an `updateMask` to a PATCH body: only the named fields (camelCase or snake_case) change,
 * a named field absent from the body is cleared to `undefined`'s default by the service; without a
 * mask, the fields present change.
 */
export function maskedFields<T extends Record<string, unknown>>(body: T, mask: string | undefined, updatable: readonly (keyof T & string)[]): Partial<T> {
  if (!mask) return Object.fromEntries(updatable.filter((f) => body[f] !== undefined).map((f) => [f, body[f]])) as Partial<T>;
  const out: Partial<T> = {};
  for (const raw of mask.split(",")) {
    const name = raw.trim();
    const field = updatable.find((f) => f === name || snake(f) === name);
    if (!field) throw invalidArgument(`invalid updateMask: field "${name}" cannot be updated (updatable: ${updatable.join(", ")})`);
    out[field] = body[field];
  }
  return out;
}
