import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, invalidArgument } from "../domain/errors.ts";
import { signInErrorPage, wantsSignInPage } from "./sign-in-error-page.ts";

/**
 * Fastify's own refusals of a request, as the message a client should read. (Malformed JSON never
 * gets here as Fastify's error: the app's own JSON parser refuses it with an ApiError.)
 */
function frameworkError(error: FastifyError, bodyLimit: number): ApiError | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return invalidArgument(`request body is larger than the limit of ${bodyLimit} bytes`);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return invalidArgument("unsupported Content-Type: send application/json");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return invalidArgument("request body length does not match Content-Length");
    default:
      if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
        return invalidArgument(error.message);
      }
      return undefined;
  }
}

/**
 * The one error handler: typed errors become `{error: {code, status, message}}` (a page, for a
 * person's browser sign-in); anything else is a bare 500.
 */
export function errorHandler(bodyLimit: number) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const apiError = error instanceof ApiError ? error : frameworkError(error as FastifyError, bodyLimit);
    if (!apiError) {
      // Internal detail goes to the log (never a secret: keys are not part of errors), not to the client.
      request.log.error({ err: error }, "unhandled error");
      void reply.status(500).send(new ApiError("INTERNAL", "internal error").toJSON(request.id));
      return;
    }
    void reply.status(apiError.httpCode).headers(apiError.headers);
    if (wantsSignInPage(request)) void reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(signInErrorPage(apiError));
    else void reply.send(apiError.toJSON(request.id));
  };
}
