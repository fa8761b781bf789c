/**
 * @module Which API keys a usage report may tell apart: every report of metered usage (Hearth's
 * `usage` rows and Fireworks' `serverlessCosts`) hides other principals' key ids alike.
 */
import type { UsageGroup } from "../store/usage.ts";

/**
 * `groups` (grouped by `dimensions`, `principal` among them) as a caller who may not see other
 * principals' API keys (`apiKeys.listOthers`) gets them: the rows of every other principal's keys
 * summed into one row without `api_key_id`, and without `principal` too unless `keepPrincipal`
 * (the caller did not group by it). Key ids stay unprobeable, as `GET …/users/-/apiKeys/{id}` keeps them.
 */
export function withOthersKeysSummed(groups: UsageGroup[], me: string, keepPrincipal: boolean): UsageGroup[] {
  const summed = new Map<string, UsageGroup>();
  for (const g of groups) {
    const { requests, prompt_tokens, completion_tokens, spend_nano, ...dims } = g;
    if (dims.principal !== me) delete dims.api_key_id;
    if (!keepPrincipal) delete dims.principal;
    const key = JSON.stringify([dims.day, dims.model, dims.principal, dims.api_key_id]);
    const row = summed.get(key);
    if (!row) summed.set(key, { ...dims, requests, prompt_tokens, completion_tokens, spend_nano });
    else {
      row.requests += requests;
      row.prompt_tokens += prompt_tokens;
      row.completion_tokens += completion_tokens;
      row.spend_nano += spend_nano;
    }
  }
  return [...summed.values()];
}
