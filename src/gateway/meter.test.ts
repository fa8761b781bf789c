import assert from "node:assert/strict";
import { test } from "node:test";
import { generatedChars } from "./meter.ts";

test("generatedChars counts the text a model generated in every field it may use, and none of the JSON around it", () => {
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ["completion text", { choices: [{ index: 0, text: "Hello" }] }, 5],
    ["chat message", { choices: [{ index: 0, message: { role: "assistant", content: "Hello, world" } }] }, 12],
    [
      "content parts",
      {
        choices: [
          {
            delta: {
              content: [
                { type: "text", text: "ab" },
                { type: "text", text: "cde" },
              ],
            },
          },
        ],
      },
      5,
    ],
    ["reasoning_content (DeepSeek)", { choices: [{ delta: { reasoning_content: "think" } }] }, 5],
    ["reasoning (vLLM, Ollama, OpenRouter)", { choices: [{ delta: { reasoning: "think more" } }] }, 10],
    ["refusal", { choices: [{ message: { refusal: "no" } }] }, 2],
    ["tool-call arguments", { choices: [{ delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: '{"a":1}' } }] } }] }, 7],
    ["legacy function call", { choices: [{ message: { function_call: { name: "f", arguments: "{}" } } }] }, 2],
    ["two choices", { choices: [{ delta: { content: "ab" } }, { delta: { content: "cd" } }] }, 4],
    ["a usage-only chunk", { choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }, 0],
    ["no choices at all", { id: "x", object: "chat.completion.chunk" }, 0],
    ["junk in choices", { choices: [null, 7, "text", { delta: null }] }, 0],
  ];
  for (const [what, json, chars] of cases) assert.equal(generatedChars(json), chars, what);
});
