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

const textLength = (value: unknown): number => (typeof value === "string" ? value.length : 0);

/** A message's or delta's content: a string, or OpenAI's array of parts (`{type: "text", text}`). */
function contentLength(content: unknown): number {
  if (typeof content === "string") return content.length;
  if (!Array.isArray(content)) return 0;
  return content.reduce((n: number, part: unknown) => n + textLength((part as { text?: unknown } | null)?.text), 0);
}

/** A chat message's or delta's generated text: content, reasoning (`reasoning_content`, or `reasoning` as vLLM, Ollama and OpenRouter name it), refusal and tool-call (or legacy function-call) arguments. */
function messageLength(message: unknown): number {
  if (!message || typeof message !== "object") return 0;
  const m = message as Record<string, unknown>;
  let n = contentLength(m.content) + textLength(m.reasoning_content) + textLength(m.reasoning) + textLength(m.refusal);
  n += textLength((m.function_call as { arguments?: unknown } | null)?.arguments);
  if (Array.isArray(m.tool_calls))
    for (const call of m.tool_calls) n += textLength((call as { function?: { arguments?: unknown } } | null)?.function?.arguments);
  return n;
}

/**
 * The characters of text a model generated in an OpenAI-style answer or stream chunk, what a
 * completion's estimate is taken from when the backend reports no usage: each choice's `text`
 * (completions) or its `message`'s or `delta`'s generated text (chat). Not the JSON around it:
 * counting a chunk's whole JSON once metered a cut-off stream at about 33 times the tokens it carried.
 */
export function generatedChars(json: Record<string, unknown>): number {
  if (!Array.isArray(json.choices)) return 0;
  let n = 0;
  for (const choice of json.choices) {
    if (!choice || typeof choice !== "object") continue;
    const c = choice as Record<string, unknown>;
    n += textLength(c.text) + messageLength(c.message) + messageLength(c.delta);
  }
  return n;
}
