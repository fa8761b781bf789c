import { isJsonObject } from "./json-object.ts";

/**
 * What one line of a dataset holds, by the dataset's `format` (Fireworks' Dataset.format, its enum
 * FORMAT_UNSPECIFIED, CHAT, COMPLETION, RL). FORMAT_UNSPECIFIED, the default, takes the format of
 * the first example uploaded (`formatOfExample`) and holds every line to it. The rules are
 * Fireworks' fine-tuning dataset rules
 * (docs.fireworks.ai: "Fine-tuning models", "DPO fine-tuning", and "OpenAI compatibility: training
 * compatibility", which takes OpenAI's supervised fine-tuning format unchanged):
 * - CHAT: `{"messages": [message, …]}`, at least one message (`chatMessageProblem`), optionally with
 *   `tools` (an array) and a per-sample `weight` (a number ≥ 0); or a preference pair for DPO,
 *   `{"input": {"messages": […]}, "preferred_output": [assistant message, …], "non_preferred_output": […]}`;
 * - COMPLETION: `{"prompt": "…", "completion": "…"}`;
 * - RL (reinforcement fine-tuning): `{"messages": […]}`, the prompt's messages, with whatever the
 *   evaluator reads (a ground truth, …) as other fields.
 * Other fields of a line are kept as they are.
 */
export const DATASET_FORMATS = ["FORMAT_UNSPECIFIED", "CHAT", "COMPLETION", "RL"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
/** The formats a dataset's lines are held to: every one but FORMAT_UNSPECIFIED. */
export type ExampleFormat = Exclude<DatasetFormat, "FORMAT_UNSPECIFIED">;

const CHAT_ROLES = ["system", "user", "assistant", "tool"];
/** The content part types of OpenAI's chat messages that fine-tuning takes (text, and images for vision). */
const PART_TYPES = ["text", "image_url"];
const MESSAGES_NEEDED = `it needs "messages", a non-empty array of {"role", "content"} objects`;

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

const isWeight = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value) && value >= 0;

/** Why `content` (of `at`) is not a message's content: a string, or a non-empty array of text and image parts. */
function contentProblem(at: string, content: unknown): string | undefined {
  if (typeof content === "string") return undefined;
  if (!Array.isArray(content) || content.length === 0) return `${at}.content must be a string or an array of content parts, not ${shown(content)}`;
  for (const [i, part] of content.entries()) {
    const where = `${at}.content[${i}]`;
    if (!isJsonObject(part) || typeof part.type !== "string" || !PART_TYPES.includes(part.type)) {
      return `${where} must be a content part with type ${PART_TYPES.join(" or ")}, not ${shown(part)}`;
    }
    if (part.type === "text" && typeof part.text !== "string") return `${where}.text must be a string`;
    if (part.type === "image_url" && !(isJsonObject(part.image_url) && typeof part.image_url.url === "string")) {
      return `${where}.image_url must be {"url": "…"}`;
    }
  }
  return undefined;
}

/** Why `calls` (an assistant message's `tool_calls`) is not a list of OpenAI function calls. */
function toolCallsProblem(at: string, calls: unknown): string | undefined {
  if (!Array.isArray(calls) || calls.length === 0) return `${at}.tool_calls must be a non-empty array`;
  for (const [i, call] of calls.entries()) {
    const fn = isJsonObject(call) ? call.function : undefined;
    if (!isJsonObject(call) || (call.type !== undefined && call.type !== "function") || !isJsonObject(fn) || typeof fn.name !== "string") {
      return `${at}.tool_calls[${i}] must be {"type": "function", "function": {"name", "arguments"}}`;
    }
    if (typeof fn.arguments !== "string") return `${at}.tool_calls[${i}].function.arguments must be a string (JSON text)`;
  }
  return undefined;
}

/**
 * Why `message` (of `at`, e.g. `messages[2]`) is not a chat message, or undefined when it is:
 * a `role` of system, user, assistant or tool; a `content` (`contentProblem`), which an assistant
 * message carrying `tool_calls` may leave null or out; an assistant's `tool_calls`, `weight` (a
 * number ≥ 0: whether the turn is learned from) and `reasoning_content` (a string: a thinking trace).
 */
function chatMessageProblem(at: string, message: unknown): string | undefined {
  if (!isJsonObject(message)) return `${at} is not an object`;
  const { role } = message;
  if (typeof role !== "string" || !CHAT_ROLES.includes(role)) return `${at}.role is ${shown(role)}: use ${CHAT_ROLES.join(", ")}`;
  const calls = message.tool_calls;
  if (calls !== undefined && role !== "assistant") return `${at} has tool_calls, which only an assistant message may have`;
  if (calls !== undefined) {
    const problem = toolCallsProblem(at, calls);
    if (problem) return problem;
  }
  if (!(calls !== undefined && (message.content === null || message.content === undefined))) {
    const problem = contentProblem(at, message.content);
    if (problem) return problem;
  }
  if (message.weight !== undefined && !isWeight(message.weight)) return `${at}.weight must be a number ≥ 0, not ${shown(message.weight)}`;
  if (message.reasoning_content !== undefined && typeof message.reasoning_content !== "string") return `${at}.reasoning_content must be a string`;
  return undefined;
}

/** Why `messages` (named `at`) is not a non-empty list of chat messages; `assistantOnly` for a DPO output. */
function messagesProblem(at: string, messages: unknown, assistantOnly = false): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return at === "messages" ? MESSAGES_NEEDED : `${at} must be a non-empty array of messages`;
  for (const [i, message] of messages.entries()) {
    const problem = chatMessageProblem(`${at}[${i}]`, message);
    if (problem) return problem;
    if (assistantOnly && (message as { role: string }).role !== "assistant") return `${at}[${i}].role must be assistant`;
  }
  return undefined;
}

function chatProblem(line: Record<string, unknown>): string | undefined {
  if (!("messages" in line) && "input" in line) {
    // A DPO preference pair: the prompt, and the preferred and the non-preferred answer.
    if (!isJsonObject(line.input)) return `"input" must be {"messages": […]}`;
    return (
      messagesProblem("input.messages", line.input.messages) ??
      messagesProblem("preferred_output", line.preferred_output, true) ??
      messagesProblem("non_preferred_output", line.non_preferred_output, true)
    );
  }
  if (line.tools !== undefined && !Array.isArray(line.tools)) return `"tools" must be an array, not ${shown(line.tools)}`;
  if (line.weight !== undefined && !isWeight(line.weight)) return `"weight" must be a number ≥ 0, not ${shown(line.weight)}`;
  return messagesProblem("messages", line.messages);
}

function completionProblem(line: Record<string, unknown>): string | undefined {
  for (const field of ["prompt", "completion"]) {
    if (typeof line[field] !== "string") return `it needs "${field}", a string${field in line ? `, not ${shown(line[field])}` : ""}`;
  }
  return undefined;
}

/** Why `line` (one parsed JSON object) is not an example of `format`, or undefined when it is. */
export function exampleProblem(format: ExampleFormat, line: Record<string, unknown>): string | undefined {
  if (format === "COMPLETION") return completionProblem(line);
  return format === "CHAT" ? chatProblem(line) : messagesProblem("messages", line.messages);
}

/**
 * The format the first example of a FORMAT_UNSPECIFIED dataset shows: CHAT for `messages` (or a
 * DPO pair's `input`), COMPLETION for `prompt`; undefined for a line that is neither.
 */
export function formatOfExample(line: Record<string, unknown>): ExampleFormat | undefined {
  if ("messages" in line || "input" in line) return "CHAT";
  return "prompt" in line ? "COMPLETION" : undefined;
}
