import { costNano, utcDay, type Prices } from "../domain/pricing.ts";
import type { Principal } from "../service/context.ts";
import type { Store } from "../store/store.ts";
import { addUsage } from "../store/usage.ts";

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

/** Adds one request to the account's daily usage row for this model, principal and key. */
export async function meter(store: Store, principal: Principal, model: string, prices: Prices, usage: TokenUsage, now = Date.now()): Promise<void> {
  await addUsage(store.db, {
    account_id: principal.accountId,
    day: utcDay(now),
    model,
    principal: principal.email,
    api_key_id: principal.apiKeyId,
    requests: 1,
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    spend_nano: costNano(prices, usage.promptTokens, usage.completionTokens),
  });
}
