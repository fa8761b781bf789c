/**
 * @module The OpenAI-compatible inference proxy: checks the request, resolves the model to a
 * backend, admits it against the account's quotas, calls the backend and relays its answer
 * (`relay.ts`). The HTTP route only declares the endpoints and calls `proxyInference`.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { describeIssue } from "../domain/describe-issue.ts";
import { invalidArgument } from "../domain/errors.ts";
import { auditRefusals } from "../service/audit.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { admit, InferenceRefusal, reservationNano, reservedTokens, resolveTarget, type InferencePath } from "./inference.ts";
import { countRateRefusal } from "./rate-refusals.ts";
import { requireAllowedModel } from "./key-restrictions.ts";
import { estimateTokens } from "./meter.ts";
import { endCall, relayError, relayJson, relayStream, type Relayed } from "./relay.ts";
import { postUpstream, UpstreamError, type UpstreamCall } from "./upstream.ts";

const chatSchema = z.looseObject({ messages: z.array(z.unknown()).min(1, "messages must not be empty"), stream: z.boolean().optional() });
const completionSchema = z.looseObject({ prompt: z.union([z.string(), z.array(z.unknown())]), stream: z.boolean().optional() });
// OpenAI's embeddings input: a string, or an array of strings or of token arrays.
const embeddingSchema = z.looseObject({ input: z.union([z.string(), z.array(z.unknown()).min(1, "input must not be empty")]) });

const SCHEMAS: Record<InferencePath, z.ZodType> = { "/chat/completions": chatSchema, "/completions": completionSchema, "/embeddings": embeddingSchema };

/** What a request sends the model: the text its prompt estimate is taken from. */
const PROMPT_FIELD: Record<InferencePath, string> = { "/chat/completions": "messages", "/completions": "prompt", "/embeddings": "input" };

type Body = Record<string, unknown>;

function checkBody(body: Body, path: InferencePath): void {
  const result = SCHEMAS[path].safeParse(body);
  if (!result.success) throw invalidArgument(describeIssue("request body", result.error, body));
}

/**
 * Proxies one OpenAI-style request (`path`: `/chat/completions`, `/completions` or `/embeddings`)
 * to the backend of the model it names, with the backend's upstream model name, and returns the
 * response body (a stream for `stream: true`), which names the model as the client did. A
 * request refused before the backend is called (invalid body, unknown model, the wrong kind of
 * model, no permission, a quota: 400, 403, 404, 412, 429) is audited as `operationId` on the model
 * and rethrown; backend failures throw `UpstreamError` (502, 504).
 */
export async function proxyInference(
  deps: Deps,
  ctx: Ctx,
  body: Body,
  request: FastifyRequest,
  reply: FastifyReply,
  path: InferencePath,
  operationId: string,
): Promise<unknown> {
  const op = {
    method: operationId,
    resource: String(body.model ?? "").slice(0, 300),
    payload: { model: body.model, stream: body.stream },
  };
  // Listened for from the start: a client gone at any point cancels what is left of the call.
  const clientGone = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) clientGone.abort();
  });
  const { target, promptEstimate, admission } = await auditRefusals(ctx, op, async () => {
    checkBody(body, path);
    const resolved = await resolveTarget(deps, ctx, body.model, path);
    requireAllowedModel(ctx.principal, resolved.model, String(body.model));
    const estimate = estimateTokens(JSON.stringify(body[PROMPT_FIELD[path]]).length);
    const tokens = reservedTokens(resolved, estimate, body);
    const admitted = await admit(deps, ctx.principal, resolved, reservationNano(resolved, estimate, body), tokens).catch((error: unknown) => {
      if (error instanceof InferenceRefusal && error.openaiCode === "rate_limit_exceeded") countRateRefusal(deps.store, ctx, operationId);
      throw error;
    });
    void reply.headers(admitted.headers);
    return { target: resolved, promptEstimate: estimate, admission: admitted };
  });
  const stream = body.stream === true && path !== "/embeddings";
  const streamOptions = body.stream_options && typeof body.stream_options === "object" ? (body.stream_options as Body) : {};
  const upstreamBody = JSON.stringify({
    ...body,
    model: target.upstreamModel,
    ...(stream ? { stream_options: { ...streamOptions, include_usage: true } } : {}),
  });
  const requestedModel = String(body.model);
  const c: Relayed = { deps, ctx, request, reply, path, requestedModel, target, promptEstimate, admission };
  if (clientGone.signal.aborted) {
    // Gone before the backend was asked: nothing was spent.
    await endCall(c);
    throw new UpstreamError(502, "the client closed the request");
  }
  let call: UpstreamCall;
  try {
    call = await postUpstream(target.backend, path, upstreamBody, request.id, clientGone.signal);
  } catch (error) {
    // Gone while the backend worked on the prompt (before its headers): the prompt is metered, as
    // for a disconnect mid-stream. A backend that failed or timed out costs nothing.
    await endCall(c, clientGone.signal.aborted ? { promptTokens: promptEstimate, completionTokens: 0 } : undefined);
    throw error;
  }
  const eventStream = call.response.contentType.startsWith("text/event-stream");
  if (call.response.ok && stream && eventStream) return relayStream(c, call, streamOptions.include_usage === true, clientGone.signal);
  try {
    return call.response.ok ? await relayJson(c, call) : await relayError(c, call);
  } finally {
    call.done();
    // Whatever ended it without metering (an error answer, a broken body) releases the reservation.
    await endCall(c);
  }
}
