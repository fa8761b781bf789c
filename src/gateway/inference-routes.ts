/**
 * @module Where the OpenAI-compatible endpoints are served and what each is called, for the
 * framework routes (src/http/routes/inference.ts), the fast path in front of them
 * (src/http/gateway-fast-path.ts) and the edge checks that treat inference bodies apart.
 */
import type { InferencePath } from "./inference.ts";

/**
 * Where the OpenAI-compatible routes are mounted: under `/inference/v1` (Fireworks' inference base
 * URL) and on the origin's `/v1`, so that one client with the origin as its base URL reaches the
 * control plane and inference alike.
 */
export const INFERENCE_MOUNTS = ["/inference/v1", "/v1"] as const;

/** Each endpoint's operation: its OpenAPI `operationId` and the audit log's method for a refused call. */
export const INFERENCE_OPERATIONS: Readonly<Record<InferencePath, string>> = {
  "/chat/completions": "CreateChatCompletion",
  "/completions": "CreateCompletion",
  "/embeddings": "CreateEmbeddings",
};

const BY_URL = new Map<string, InferencePath>(
  INFERENCE_MOUNTS.flatMap((mount) => (Object.keys(INFERENCE_OPERATIONS) as InferencePath[]).map((path) => [`${mount}${path}`, path] as const)),
);

/**
 * The endpoint a path names exactly (`/v1/chat/completions` → `/chat/completions`; no query
 * string, no trailing slash), or undefined for any other path.
 */
export const inferenceEndpoint = (path: string): InferencePath | undefined => BY_URL.get(path);
