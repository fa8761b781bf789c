/**
 * @module Spend arithmetic. Money is kept as integer nano-dollars (1e-9 USD) so that millions of small
 * requests add up exactly; prices are USD per million tokens, so one token at price P costs
 * P × 1000 nano-dollars.
 */
export interface Prices {
  inputPricePerMillionTokens: number;
  outputPricePerMillionTokens: number;
}

export const NANO_PER_USD = 1_000_000_000;

export function costNano(prices: Prices, promptTokens: number, completionTokens: number): number {
  return Math.round(promptTokens * prices.inputPricePerMillionTokens * 1000 + completionTokens * prices.outputPricePerMillionTokens * 1000);
}

export const usdFromNano = (nano: number): number => nano / NANO_PER_USD;

const DAY_MS = 86_400_000;

/** The last day `utcDay` formatted, and the instants [start, end) it covers (Unix ms): a call per request asks for the same day. */
let lastDay = { start: 0, end: 0, day: "" };

/** The UTC day of an instant (Unix ms), `YYYY-MM-DD` (the key of daily usage rows; sorts as text). */
export function utcDay(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.end) return lastDay.day;
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  lastDay = { start, end: start + DAY_MS, day: new Date(ms).toISOString().slice(0, 10) };
  return lastDay.day;
}

/** The first UTC day of the calendar month of an instant. */
export const monthStartDay = (ms: number): string => `${utcDay(ms).slice(0, 7)}-01`;
