/**
 * @module OpenAI's response shapes, as far as the gateway relies on them; the rest passes through.
 */
import { z } from "zod";

const usage = z.looseObject({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() });

const answer = {
  id: z.string(),
  created: z.number().optional(),
  model: z.string().optional(),
  usage: usage.optional(),
};

/** `POST /inference/v1/chat/completions` without `stream` (with it: `text/event-stream` chunks). */
export const chatCompletion = z
  .looseObject({
    ...answer,
    object: z.literal("chat.completion"),
    choices: z.array(
      z.looseObject({
        index: z.number().int(),
        message: z.looseObject({ role: z.string(), content: z.string().nullable() }),
        finish_reason: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "ChatCompletion" });

/** `POST /inference/v1/completions` without `stream`. */
export const completion = z
  .looseObject({
    ...answer,
    object: z.literal("text_completion"),
    choices: z.array(z.looseObject({ index: z.number().int(), text: z.string(), finish_reason: z.string().nullable() })),
  })
  .meta({ id: "Completion" });

/** Example requests (the generated suite sends them; the model is the one the examples of CreateModel create). */
export const chatCompletionRequestExample = { model: "accounts/my-account/models/my-model", messages: [{ role: "user", content: "Say hello" }] };
export const completionRequestExample = { model: "accounts/my-account/models/my-model", prompt: "Say hello" };
