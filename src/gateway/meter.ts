export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

/** The `usage` object of an OpenAI-style response or final stream chunk, if it has one. */
export function usageOf(value: unknown): TokenUsage | undefined {
  const usage = (value as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (!usage || typeof usage !== "object") return undefined;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  return { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 };
}

/**
 * A rough count (four characters a token) for when the backend reports no usage, e.g. a stream
 * cut short: metering something is better than letting a disconnect make a request free.
 */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);
