/**
 * The values of Fireworks' `Model.kind` that Hearth tells apart: a model that completes text or
 * chats (`HF_BASE_MODEL`), and one that only embeds (`EMBEDDING_MODEL`, served at `/embeddings`).
 */
export const MODEL_KINDS = ["HF_BASE_MODEL", "EMBEDDING_MODEL"] as const;

/** A model's kind (Fireworks' `Model.kind`); a model of an account is always `HF_BASE_MODEL`. */
export type ModelKind = (typeof MODEL_KINDS)[number];
