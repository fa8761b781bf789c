import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, invalidArgument, methodNotAllowed, notFound } from "../domain/errors.ts";
import { openAiError } from "../gateway/openai-error.ts";
import { InferenceRefusal } from "../gateway/inference.ts";
import { UpstreamError } from "../gateway/upstream.ts";
import type { AllowedMethods } from "./allowed-methods.ts";
import { pageHeaders } from "./console.ts";
import { signInErrorPage, wantsSignInPage } from "./sign-in-error-page.ts";
import { routeConfig, type ErrorFormat } from "./route-config.ts";

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

const internalError = (): ApiError => new ApiError("INTERNAL", "internal error");

const formatOf = (request: FastifyRequest): ErrorFormat => routeConfig(request).errorFormat ?? "google-rpc";

/**
 * The one error handler: any error becomes an ApiError (Fastify's refusals a 400, passed through
 * `onFrameworkRefusal` to be audited, which may answer the credential's refusal instead; anything
 * unexpected a bare 500 whose detail goes only to the log), then is written in the route's format
 * (a page, for a person's browser sign-in); a backend's failure (502, 504) only arises, and is only
 * written, on the OpenAI-compatible routes.
 */
export function errorHandler(bodyLimit: number, onFrameworkRefusal: (request: FastifyRequest, refusal: ApiError) => Promise<ApiError>) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let known = error instanceof ApiError || error instanceof UpstreamError ? error : frameworkError(error as FastifyError, bodyLimit);
    // Fastify refused it before any handler ran: audited (and its credential checked) as a route's refusal would be.
    if (known instanceof ApiError && !(error instanceof ApiError)) known = await onFrameworkRefusal(request, known);
    writeError(known, error, request, reply, formatOf(request));
  };
}

/**
 * The answer to a request no route takes: 405 with `Allow` when routes declare its path for other
 * methods (RFC 9110 §15.5.6), else 404 naming it; passed through `onEdgeRefusal` to be audited
 * in the caller's account, which may answer the audit's failure instead. Under `/inference/`, the
 * mount only OpenAI-compatible clients use (their base URL), in OpenAI's shape, so a client asking
 * for an endpoint Hearth does not serve reads a `not_found_error` it understands; elsewhere google.rpc.
 */
export function notFoundHandler(allowedMethods: AllowedMethods, onEdgeRefusal: (request: FastifyRequest, refusal: ApiError) => Promise<ApiError>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = request.url.split("?")[0]!;
    const allowed = allowedMethods.at(path);
    const openai = request.url.startsWith("/inference/");
    const refusal =
      allowed.length > 0
        ? methodNotAllowed(request.method, path, allowed)
        : openai
          ? new InferenceRefusal("NOT_FOUND", `no route for ${request.method} ${path}`, "not_found_error", "unknown_url")
          : notFound(`no route for ${request.method} ${path}`);
    const answer = await onEdgeRefusal(request, refusal);
    writeError(answer, answer, request, reply, openai ? "openai" : "google-rpc");
  };
}

function writeError(known: ApiError | UpstreamError | undefined, error: unknown, request: FastifyRequest, reply: FastifyReply, format: ErrorFormat): void {
  const openai = format === "openai";
  // Internal detail goes to the log (never a secret: keys are not part of errors), not to the client.
  if (!known || (!openai && known instanceof UpstreamError)) request.log.error({ err: error }, "unhandled error");
  if (openai) {
    const { httpStatus, headers, body } = openAiError(known ?? internalError());
    void reply.status(httpStatus).headers(headers).send(body);
    return;
  }
  const apiError = known instanceof ApiError ? known : internalError();
  void reply.status(apiError.httpCode).headers(apiError.headers);
  if (wantsSignInPage(request)) void pageHeaders(reply).type("text/html; charset=utf-8").header("cache-control", "no-store").send(signInErrorPage(apiError));
  else void reply.send(apiError.toJSON(request.id));
}
