import { isDeepStrictEqual } from "node:util";
import { invalidArgument } from "../domain/errors.ts";

/**
 * @module A request that may give one value in two places (a resource id as `?datasetId=` or in the
 * body, an `updateMask` in the query or the body, a field flat in the body or in its nested
 * resource, as Fireworks' SDKs send `{"dataset": {…}}`): either place alone, or both when they agree.
 * Two different values are refused rather than one silently winning.
 */

/**
 * The value `name` has in whichever of `places` (place description → value, undefined where absent)
 * give it; `meaning` maps a value to what it means, for values written in several ways (an
 * updateMask's paths in any order and spelling), default the value itself.
 * @throws INVALID_ARGUMENT (400) naming both places when two give values of different meaning.
 */
export function sameValue<T>(name: string, places: Record<string, T | undefined>, meaning: (value: T) => unknown = (v) => v): T | undefined {
  let found: [place: string, value: T] | undefined;
  for (const [place, value] of Object.entries(places)) {
    if (value === undefined) continue;
    if (found && !isDeepStrictEqual(meaning(found[1]), meaning(value))) {
      throw invalidArgument(`${name} is given twice with different values, in ${found[0]} and in ${place}: give it once`);
    }
    found ??= [place, value];
  }
  return found?.[1];
}

/**
 * A body's flat fields merged with those of its nested resource (`nestedName`, e.g. "dataset"):
 * a field given in both must have the same value there.
 * @throws INVALID_ARGUMENT (400) naming the field when the two differ.
 */
export function mergeNested<T extends object>(flat: T, nested: T | undefined, nestedName: string): T {
  const merged = { ...flat } as Record<string, unknown>;
  for (const [key, value] of Object.entries(nested ?? {})) {
    merged[key] = sameValue(key, { "the body": (flat as Record<string, unknown>)[key], [`"${nestedName}"`]: value });
  }
  return merged as T;
}
