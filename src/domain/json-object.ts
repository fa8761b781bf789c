/**
 * @module The one test of "a JSON object" (RFC 8259 §4): an object that is neither null nor an
 * array, as `JSON.parse` returns for `{…}`.
 */

/** Whether `value` is a JSON object (`{…}`): not null, not an array, not a primitive. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);
