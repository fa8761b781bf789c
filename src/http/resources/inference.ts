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

/** `POST /inference/v1/embeddings`: one embedding per input, in order. */
export const embeddingList = z
  .looseObject({
    object: z.literal("list"),
    model: z.string(),
    data: z.array(z.looseObject({ object: z.literal("embedding"), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
    usage: z.looseObject({ prompt_tokens: z.number(), total_tokens: z.number() }).optional(),
  })
  .meta({ id: "EmbeddingList" });

/** OpenAI's Model object: `created` in Unix seconds (0 for a public model), `owned_by` the owning account. */
export const openAiModel = z
  .object({
    id: z.string().meta({ examples: ["accounts/fireworks/models/llama-v3p1-8b-instruct"] }),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
  })
  .meta({ id: "OpenAIModel" });

/** `GET /inference/v1/models`: every model the key may run, not paged. */
export const openAiModelList = z.object({ object: z.literal("list"), data: z.array(openAiModel) }).meta({ id: "OpenAIModelList" });

/** The embedding model the generated suite's platform file declares (a public model of kind EMBEDDING_MODEL). */
export const embeddingRequestExample = { model: "accounts/fireworks/models/nomic-embed-text-v1-5", input: ["Say hello", "Say goodbye"] };
