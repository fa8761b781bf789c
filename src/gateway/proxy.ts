/**
 * @module The OpenAI-compatible inference proxy: checks the request, resolves the model to a
 * backend, admits it against the account's quotas, calls the backend and relays its answer
 * (`relay.ts`). The HTTP route only declares the endpoints and calls `proxyInference`, as the fast
 * path in front of the framework (src/http/gateway-fast-path.ts) does.
 */
import { z } from "zod";
import { describeIssue } from "../domain/describe-issue.ts";
import { cancelled, invalidArgument } from "../domain/errors.ts";
import { auditRefusals } from "../service/audit.ts";
import { authorize } from "../service/permissions.ts";
import type { Ctx, Deps, Operation } from "../service/context.ts";
import type { GatewayExchange } from "./exchange.ts";
import { INFERENCE_OPERATIONS } from "./inference-routes.ts";
import { admit, RateRefusal, reservationNano, reservedTokens, resolveTarget, type Admission, type InferencePath, type Target } from "./inference.ts";
import { countRateRefusal } from "./rate-refusals.ts";
import { requireAllowedModel } from "./key-restrictions.ts";
import { estimateTokens } from "./meter.ts";
import { redactUpstreamText } from "./redact.ts";
import { endCall, relayError, relayJson, relayStream, type Relayed } from "./relay.ts";
import { postUpstream, UpstreamError, type UpstreamCall } from "./upstream.ts";

/**
 * The fields a call's reservation is taken from (`reservedTokens`, `reservationNano`): whole numbers
 * or null, as OpenAI's API takes them. A backend that reads `"n": "50"` as 50 (pydantic's lax mode)
 * once generated 50 choices on a reservation for one.
 */
const wholeCount = (field: string, min: number) =>
  z
    .number({ error: `${field} must be a whole number` })
    .int(`${field} must be a whole number`)
    .min(min, `${field} must be at least ${min}`)
    .nullable()
    .optional();
/**
 * Choices start at 1 (Fireworks' `n`: "Required range: 1 <= x <= 128"); a token limit may be 0:
 * Fireworks' CompletionRequest sets it no minimum (fw-ai-external/python-sdk,
 * src/fireworks/types/completion_create_params.py `max_tokens`), and OpenAI's legacy completions
 * take `max_tokens: 0` with `echo` to score a prompt without generating. A 0 reserves as no limit
 * does (`outputBound`), whatever a backend makes of it.
 */
const outputFields = {
  n: wholeCount("n", 1),
  best_of: wholeCount("best_of", 1),
  max_tokens: wholeCount("max_tokens", 0),
  max_completion_tokens: wholeCount("max_completion_tokens", 0),
};
/**
 * A completions `prompt` or an embeddings `input` given as an array (OpenAI: strings, token ids, or
 * arrays of token ids, a batch): neither it nor a token array in it may be empty, as chat's
 * `messages` may not. An empty prompt was sent on and billed for nothing.
 */
const promptArray = (field: string) =>
  z
    .array(z.unknown())
    .min(1, `${field} must not be empty`)
    .refine((items) => !items.some((item) => Array.isArray(item) && item.length === 0), `${field} must not hold an empty token array`);
const chatSchema = z.looseObject({ messages: z.array(z.unknown()).min(1, "messages must not be empty"), stream: z.boolean().optional(), ...outputFields });
const completionSchema = z.looseObject({ prompt: z.union([z.string(), promptArray("prompt")]), stream: z.boolean().optional(), ...outputFields });
const embeddingSchema = z.looseObject({ input: z.union([z.string(), promptArray("input")]) });

const SCHEMAS: Record<InferencePath, z.ZodType> = { "/chat/completions": chatSchema, "/completions": completionSchema, "/embeddings": embeddingSchema };

/** What a request sends the model: the text its prompt estimate is taken from. */
const PROMPT_FIELD: Record<InferencePath, string> = { "/chat/completions": "messages", "/completions": "prompt", "/embeddings": "input" };

type Body = Record<string, unknown>;

function checkBody(body: Body, path: InferencePath): void {
  const result = SCHEMAS[path].safeParse(body);
  if (!result.success) throw invalidArgument(describeIssue("request body", result.error, body));
}

/** A request admitted to its backend: where it goes, its prompt estimate, and what admission holds for it. */
interface AdmittedCall {
  target: Target;
  /** Prompt tokens to meter when the backend reports no usage (see `estimateTokens`). */
  promptEstimate: number;
  admission: Admission;
}

/**
 * Checks an OpenAI-style request body for `path` (`/chat/completions`, `/completions` or
 * `/embeddings`), resolves its model to a backend and admits it against the key's and the
 * account's limits. Admission is the last step, so a throw takes nothing: an invalid body, an
 * unknown model, the wrong kind of model, no permission or a model the key may not use (400, 403,
 * 404, 412) or a limit (402, 429) throw an ApiError (an `InferenceRefusal` for a limit).
 */
async function admitInference(deps: Deps, ctx: Ctx, body: Body, path: InferencePath): Promise<AdmittedCall> {
  // Permission first: a principal that may not run inference learns nothing from the body's checks.
  authorize(ctx, "inference.run");
  checkBody(body, path);
  const target = await resolveTarget(deps, ctx, body.model, path);
  requireAllowedModel(ctx.principal, target.model, String(body.model));
  const promptEstimate = estimateTokens(JSON.stringify(body[PROMPT_FIELD[path]]).length);
  const tokens = reservedTokens(target, promptEstimate, body);
  const admission = await admit(deps, ctx.principal, target, reservationNano(target, promptEstimate, body), tokens);
  return { target, promptEstimate, admission };
}

/**
 * How a refused or failed call to `path` is audited: as the endpoint's operation
 * (`INFERENCE_OPERATIONS`) on the model the body names, with `model` and `stream`.
 */
export function inferenceOperation(body: Body, path: InferencePath): Operation {
  return { method: INFERENCE_OPERATIONS[path], resource: String(body.model ?? "").slice(0, 300), payload: { model: body.model, stream: body.stream } };
}

/**
 * Proxies one OpenAI-style request: audits a refusal before the backend is called as
 * `inferenceOperation` and rethrows it (see `admitInference`), then forwards it
 * (`forwardInference`); the route audits a failure of the call as the same operation.
 */
export async function proxyInference(deps: Deps, ctx: Ctx, body: Body, exchange: GatewayExchange, path: InferencePath): Promise<unknown> {
  const op = inferenceOperation(body, path);
  const admitted = await auditRefusals(ctx, op, () =>
    admitInference(deps, ctx, body, path).catch((error: unknown) => {
      if (error instanceof RateRefusal) countRateRefusal(deps.store, ctx, op.method, error.limit);
      throw error;
    }),
  );
  return forwardInference(deps, ctx, body, admitted, exchange, path);
}

/**
 * Calls the backend of an admitted request with the backend's upstream model name and returns
 * the answer's body (a string, an OpenAI error object for a backend's 400 or 429, or a stream for
 * `stream: true`), which names the model as the client did; `exchange` gets its status and
 * headers (the admission's rate-limit headers first). The call is metered, or its reservation
 * released, once it ends.
 * @throws UpstreamError (502, 504) when the backend fails or times out; CANCELLED (499) when the client went away first.
 */
async function forwardInference(deps: Deps, ctx: Ctx, body: Body, admitted: AdmittedCall, exchange: GatewayExchange, path: InferencePath): Promise<unknown> {
  const { target, promptEstimate, admission } = admitted;
  Object.assign(exchange.headers, admission.headers);
  const stream = body.stream === true && path !== "/embeddings";
  const streamOptions = body.stream_options && typeof body.stream_options === "object" ? (body.stream_options as Body) : {};
  const upstreamBody = JSON.stringify({
    ...body,
    model: target.upstreamModel,
    ...(stream ? { stream_options: { ...streamOptions, include_usage: true } } : {}),
  });
  const requestedModel = String(body.model);
  const c: Relayed = { deps, ctx, exchange, path, requestedModel, target, promptEstimate, admission };
  const clientGone = exchange.clientGone;
  if (clientGone.aborted) {
    // Gone before the backend was asked: nothing was spent.
    await endCall(c);
    throw cancelled("the client closed the request");
  }
  let call: UpstreamCall;
  try {
    call = await postUpstream(target.backend, path, upstreamBody, exchange.requestId, clientGone);
  } catch (error) {
    // Gone while the backend worked on the prompt (before its headers): the prompt is metered, as
    // for a disconnect mid-stream. A backend that failed or timed out costs nothing.
    await endCall(c, clientGone.aborted ? { promptTokens: promptEstimate, completionTokens: 0 } : undefined);
    throw error;
  }
  const eventStream = call.response.contentType.startsWith("text/event-stream");
  if (call.response.ok && stream && eventStream) return relayStream(c, call, streamOptions.include_usage === true);
  try {
    // A client that asked for a stream reads events only: an SDK given a JSON answer yields nothing, and says nothing.
    if (call.response.ok && stream) {
      throw new UpstreamError(
        502,
        `backend "${target.backend.name}" answered a streamed request with ${redactUpstreamText(call.response.contentType.slice(0, 100), target.backend.apiKey) || "no content type"}, not text/event-stream`,
      );
    }
    return call.response.ok ? await relayJson(c, call) : await relayError(c, call);
  } finally {
    call.done();
    // Whatever ended it without metering (an error answer, a broken body) releases the reservation.
    await endCall(c);
  }
}
