/**
 * OpenAI's error body, `{"error": {"message", "type", "code", "param"}}`, so that OpenAI client
 * libraries show the message: `type` is OpenAI's class (`invalid_request_error`,
 * `rate_limit_error`, …), `code` the precise reason; `param` is always null.
 */
export function openAiErrorBody(message: string, type: string, code: string) {
  return { error: { message, type, code, param: null } };
}
