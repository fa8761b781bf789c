import type { ApiError, StatusName } from "../domain/errors.ts";
import { InferenceRefusal } from "./inference.ts";
import { UpstreamError } from "./upstream.ts";

/**
 * OpenAI's error body, `{"error": {"message", "type", "code", "param"}}`, so that OpenAI client
 * libraries show the message: `type` is OpenAI's class (`invalid_request_error`,
 * `rate_limit_error`, …), `code` the precise reason; `param` is always null.
 */
export function openAiErrorBody(message: string, type: string, code: string) {
  return { error: { message, type, code, param: null } };
}

/**
 * OpenAI's class and code for each of Hearth's statuses (OpenAI's API reference, Error codes). A
 * refusal that has a more precise pair (an exhausted budget: `insufficient_quota`) is an
 * `InferenceRefusal` naming it; its HTTP status is the error's own.
 */
const BY_STATUS: Partial<Record<StatusName, [type: string, code: string]>> = {
  INVALID_ARGUMENT: ["invalid_request_error", "invalid_argument"],
  FAILED_PRECONDITION: ["invalid_request_error", "failed_precondition"],
  OUT_OF_RANGE: ["invalid_request_error", "out_of_range"],
  UNAUTHENTICATED: ["authentication_error", "invalid_api_key"],
  PERMISSION_DENIED: ["permission_error", "permission_denied"],
  NOT_FOUND: ["not_found_error", "model_not_found"],
  ALREADY_EXISTS: ["invalid_request_error", "already_exists"],
  ABORTED: ["invalid_request_error", "aborted"],
  RESOURCE_EXHAUSTED: ["rate_limit_error", "rate_limit_exceeded"],
  UNIMPLEMENTED: ["invalid_request_error", "method_not_allowed"],
  UNAVAILABLE: ["server_error", "unavailable"],
};

/**
 * The one mapping of an error to OpenAI's shape: the HTTP status (the error's own, or the backend
 * failure's 502 / 504), its headers (`Retry-After`, rate-limit headers) and the body; INTERNAL (500) is `server_error` / `internal_error`.
 */
export function openAiError(error: ApiError | UpstreamError): {
  httpStatus: number;
  headers: Record<string, string>;
  body: ReturnType<typeof openAiErrorBody>;
} {
  if (error instanceof UpstreamError) {
    const type = error.httpStatus === 504 ? "timeout_error" : "upstream_error";
    return { httpStatus: error.httpStatus, headers: {}, body: openAiErrorBody(error.message, type, error.code) };
  }
  const [type, code] =
    error instanceof InferenceRefusal ? [error.openaiType, error.openaiCode] : (BY_STATUS[error.status] ?? ["server_error", "internal_error"]);
  return { httpStatus: error.httpCode, headers: error.headers, body: openAiErrorBody(error.message, type, code) };
}
