import { isJsonObject } from "./json-object.ts";

/**
 * What one line of a dataset holds, by the dataset's `format` (Fireworks' Dataset.format; Hearth
 * takes CHAT, the default, and COMPLETION). The rules are Fireworks' supervised fine-tuning
 * dataset rules (docs.fireworks.ai, "Fine-tuning models: prepare a dataset"):
 * - CHAT: `{"messages": [{"role": "system" | "user" | "assistant", "content": "…"}, …]}`, at least one message;
 * - COMPLETION: `{"prompt": "…", "completion": "…"}`.
 * Other fields of a line are kept as they are.
 */
export const DATASET_FORMATS = ["CHAT", "COMPLETION"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

const CHAT_ROLES = ["system", "user", "assistant"];

/**
 * A short quote of a wrong value for an error message: the value as JSON, cut at 40 characters; a
 * value nested too deep to write out (JSON.stringify's RangeError) is named by its kind.
 */
const shown = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? "an array nested too deep to quote" : "an object nested too deep to quote";
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

function chatProblem(line: Record<string, unknown>): string | undefined {
  const messages = line.messages;
  if (!Array.isArray(messages) || messages.length === 0) return `it needs "messages", a non-empty array of {"role", "content"} objects`;
  for (const [i, message] of messages.entries()) {
    if (!isJsonObject(message)) return `messages[${i}] is not an object`;
    if (typeof message.role !== "string" || !CHAT_ROLES.includes(message.role)) {
      return `messages[${i}].role is ${shown(message.role)}: use ${CHAT_ROLES.join(", ")}`;
    }
    if (typeof message.content !== "string") return `messages[${i}].content must be a string, not ${shown(message.content)}`;
  }
  return undefined;
}

function completionProblem(line: Record<string, unknown>): string | undefined {
  for (const field of ["prompt", "completion"]) {
    if (typeof line[field] !== "string") return `it needs "${field}", a string${field in line ? `, not ${shown(line[field])}` : ""}`;
  }
  return undefined;
}

/** Why `line` (one parsed JSON object) is not an example of `format`, or undefined when it is. */
export function exampleProblem(format: DatasetFormat, line: Record<string, unknown>): string | undefined {
  return format === "CHAT" ? chatProblem(line) : completionProblem(line);
}
