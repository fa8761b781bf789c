export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * The most tokens one count of one call may report: no model's context holds more (the largest hold
 * about 10 million). A backend's larger count is a fault, not usage: believed, `1e308` tokens would
 * cost an infinite amount and stop the account's inference for the rest of the month.
 */
const MAX_TOKENS_PER_CALL = 100_000_000;

/** A reported token count: a whole number from 0 to `MAX_TOKENS_PER_CALL`; undefined for anything else. */
const count = (v: unknown): number | undefined =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TOKENS_PER_CALL ? (v as number) : undefined;

/**
 * The `usage` object of an OpenAI-style response or final stream chunk, if it has one that can be
 * believed: `prompt_tokens` and `completion_tokens` each absent (0; an embedding reports no
 * completion) or a count as `count` takes it. A report with either count out of bounds (negative,
 * fractional, huge, not a number) is none at all, so the caller meters its estimate instead.
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  const usage = (value as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (!usage || typeof usage !== "object") return undefined;
  const { prompt_tokens: promptGiven, completion_tokens: completionGiven } = usage;
  if (promptGiven === undefined && completionGiven === undefined) return undefined;
  const prompt = promptGiven === undefined ? 0 : count(promptGiven);
  const completion = completionGiven === undefined ? 0 : count(completionGiven);
  if (prompt === undefined || completion === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion };
}

/**
 * A rough count (four characters a token) for when the backend reports no usage, e.g. a stream
 * cut short: metering something is better than letting a disconnect make a request free.
 */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);
