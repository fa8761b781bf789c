/**
 * @module The one spelling of a whole number Hearth reads from text — a query parameter, a setting,
 * a command-line flag: decimal digits. `Number()` (and `z.coerce.number`) would also read `0x1`,
 * `0b1`, `0o1`, `1e0`, ` 1`, `1.0` and `""` (as 0), taking another spelling, or a typo, as some number.
 */

/** Decimal digits, nothing else (no sign, space, point or exponent). */
export const DECIMAL_DIGITS = /^\d+$/;

/**
 * `text` as a whole number when it is decimal digits of a value from `min` to `max`; otherwise
 * undefined (the caller words the refusal: an API field, a setting and a flag each name themselves).
 * Leading zeros are read as decimal (`010` is 10).
 */
export function wholeNumber(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!DECIMAL_DIGITS.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}
