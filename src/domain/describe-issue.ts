import type { z } from "zod";

/** The `params` key of a custom issue whose message is already the whole sentence (a field rule's). */
export const WHOLE_SENTENCE = "wholeSentence";

/**
 * The first problem zod found in `value`, as one sentence naming the field, for a 400
 * INVALID_ARGUMENT: `missing request body field "messages" (expected array)`, `invalid query
 * parameter field "pageSize": …`. `where` names the part of the request (`path`, `query
 * parameter`, `request body`). A field rule's refusal (`WHOLE_SENTENCE`) names the field itself
 * and is kept as it is: `invalid userId "a--b-": use 1-63 …`.
 */
export function describeIssue(where: string, error: z.ZodError, value: unknown): string {
  const issue = error.issues[0]!;
  if (issue.code === "custom" && issue.params?.[WHOLE_SENTENCE] === true) return issue.message;
  const path = issue.path.join(".");
  // zod words a missing field "expected string, received undefined"; say that it is missing.
  const given = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
  if (path && issue.code === "invalid_type" && given === undefined) {
    // A field of any type (`z.unknown()`) that is required: zod expects "nonoptional", which names no type.
    return issue.expected === "nonoptional" ? `missing ${where} field "${path}"` : `missing ${where} field "${path}" (expected ${issue.expected})`;
  }
  return path ? `invalid ${where} field "${path}": ${issue.message}` : `invalid ${where}: ${issue.message}`;
}
