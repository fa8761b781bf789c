import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../domain/errors.ts";
import { InferenceRefusal } from "../gateway/inference.ts";
import { openAiErrorBody } from "../gateway/openai-error.ts";
import { UpstreamError } from "../gateway/upstream.ts";

/**
 * The inference gateway speaks OpenAI's error shape, `{"error": {"message", "type", "code",
 * "param"}}`, so OpenAI client libraries show the message; the HTTP status is Hearth's.
 */
const TYPES: Partial<Record<ApiError["status"], [type: string, code: string]>> = {
  INVALID_ARGUMENT: ["invalid_request_error", "invalid_argument"],
  FAILED_PRECONDITION: ["invalid_request_error", "failed_precondition"],
  OUT_OF_RANGE: ["invalid_request_error", "out_of_range"],
  UNAUTHENTICATED: ["authentication_error", "invalid_api_key"],
  PERMISSION_DENIED: ["permission_error", "permission_denied"],
  NOT_FOUND: ["not_found_error", "model_not_found"],
  RESOURCE_EXHAUSTED: ["rate_limit_error", "rate_limit_exceeded"],
  UNAVAILABLE: ["server_error", "unavailable"],
};

/** The error handler of the inference routes. */
export function openAiErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof UpstreamError) {
    void reply.status(error.httpStatus).send(openAiErrorBody(error.message, error.httpStatus === 504 ? "timeout_error" : "upstream_error", error.code));
    return;
  }
  if (error instanceof ApiError) {
    const [type, code] = error instanceof InferenceRefusal ? [error.openaiType, error.openaiCode] : (TYPES[error.status] ?? ["server_error", "internal_error"]);
    void reply
      .status(error.httpCode)
      .headers(error.headers)
      .send(openAiErrorBody(error.message, type, code));
    return;
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const message = (error as FastifyError).code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "the request body is too large" : (error as Error).message;
    void reply.status(400).send(openAiErrorBody(message, "invalid_request_error", "invalid_argument"));
    return;
  }
  request.log.error({ err: error }, "unhandled error");
  void reply.status(500).send(openAiErrorBody("internal error", "server_error", "internal_error"));
}
