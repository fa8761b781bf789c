/**
 * @module The Model resource as the API returns it (Fireworks field names where it has them).
 */
import { z } from "zod";
import { MODEL_KINDS } from "../../domain/model-kind.ts";
import { listPage, status, timestamp } from "./common.ts";

/** A model of an account, or of the operator's public catalogue (`public: true`, no times). */
export const model = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/models/my-model"] }),
    displayName: z.string(),
    description: z.string(),
    /** The configured backend (HEARTH_CONFIG) that serves it. */
    backend: z.string(),
    /** The model's name at the backend. */
    upstreamModel: z.string(),
    /** Fireworks' `Model.kind`: `EMBEDDING_MODEL` (public models so declared) serves `/embeddings`; an account's model is `HF_BASE_MODEL`. */
    kind: z.enum(MODEL_KINDS),
    inputPricePerMillionTokens: z.number(),
    outputPricePerMillionTokens: z.number(),
    state: z.literal("READY"),
    /** Fireworks' `Model.status` (python-sdk src/fireworks/types/model.py): always OK, a model has no operation that fails. */
    status,
    public: z.boolean(),
    /** The creator's email ("" for a public model). */
    createdBy: z.string(),
    createTime: timestamp.optional(),
    updateTime: timestamp.optional(),
  })
  .meta({ id: "Model" });
export type Model = z.output<typeof model>;

export const modelList = listPage("models", model).meta({ id: "ListModelsResponse" });
