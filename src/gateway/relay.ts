/**
 * @module Relays a backend's answer to the client: a JSON answer whole, an SSE stream event by
 * event, an error as a clear OpenAI-style error. Whatever the backend sent passes through
 * `redact.ts` first (never the backend's credential, in any spelling), and every request that
 * reached the backend is metered, also when the stream is cut short.
 */
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { costNano, utcDay } from "../domain/pricing.ts";
import { limitsKeyOf } from "../domain/principal.ts";
import type { Ctx, Deps } from "../service/context.ts";
import type { GatewayExchange } from "./exchange.ts";
import type { Admission, InferencePath, Target } from "./inference.ts";
import { estimateTokens, usageOf, type TokenUsage } from "./meter.ts";
import { openAiErrorBody } from "./openai-error.ts";
import { redactKey, redactUpstreamJson, redactUpstreamText } from "./redact.ts";
import { eventNamedAsRequested, namedAsRequested } from "./requested-model.ts";
import { SseSplitter, sseError, type SseEvent } from "./sse.ts";
import { UpstreamError, type UpstreamCall } from "./upstream.ts";

/** One admitted inference request whose backend call has begun. */
export interface Relayed {
  deps: Deps;
  ctx: Ctx;
  /** The exchange answered: the status and headers set here are written with the body returned. */
  exchange: GatewayExchange;
  path: InferencePath;
  /** The `model` the client asked for, exactly: the name answers carry (as Fireworks echoes it), not the backend's. */
  requestedModel: string;
  target: Target;
  /** Prompt tokens to meter when the backend reports no usage (see `estimateTokens`). */
  promptEstimate: number;
  /** The spend and tokens held at admission; `endCall` meters or releases them, once. */
  admission: Admission;
  ended?: boolean;
}

/**
 * Reads the rest of an upstream body as UTF-8; every chunk restarts the idle time-out. Rejects when
 * the body breaks off (an error, or the response closed before its end). Read through listeners
 * rather than an async iterator: a few objects fewer on every call.
 */
function readAll(call: UpstreamCall): Promise<string> {
  const body = call.response.body;
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    body.on("data", (chunk: Buffer) => {
      call.touch();
      parts.push(chunk);
    });
    body.once("end", () => resolve((parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString("utf8")));
    body.once("error", reject);
    body.once("close", () => {
      if (!body.complete) reject(new Error("the response closed before its end"));
    });
  });
}

function failure(call: UpstreamCall, backend: string, error: unknown): UpstreamError {
  if (call.aborted() === "timeout") return new UpstreamError(504, `backend "${backend}" did not answer within ${call.timeoutMs} ms`);
  if (error instanceof UpstreamError) return error;
  return new UpstreamError(502, `backend "${backend}" broke off its response`);
}

/**
 * Ends a call once. With `usage`, records it for metering (written with its batch within
 * `USAGE_FLUSH_MS`, after the response: the spend reservation holds its cost until then) and
 * reconciles the tokens held against the key's `tpm` with those used; without (the backend was not
 * reached or failed), releases the reservation and gives the tokens back.
 */
export async function endCall(c: Relayed, usage?: TokenUsage): Promise<void> {
  if (c.ended) return;
  c.ended = true;
  const { reservation, tokens } = c.admission;
  const used = usage ? usage.promptTokens + usage.completionTokens : 0;
  try {
    if (usage) {
      const p = c.ctx.principal;
      const cost = costNano(c.target.prices, usage.promptTokens, usage.completionTokens);
      // Until its batch is written the reservation stands for the cost: never less than it (capped
      // as admission caps an amount, so that every ledger stores it).
      if (cost > reservation.amountNano) await c.deps.cluster.spendLedger.grow(reservation, Math.min(cost, Number.MAX_SAFE_INTEGER));
      c.deps.cluster.meter.record({
        accountId: p.accountId,
        day: utcDay(Date.now()),
        model: c.target.model,
        principal: p.email,
        apiKeyId: p.apiKeyId,
        limitsKeyId: limitsKeyOf(p),
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        costNano: cost,
        reservation,
      });
    } else {
      await c.deps.cluster.spendLedger.release(reservation);
    }
    if (tokens && used !== tokens.tokens) await c.deps.rateLimiter.adjust(tokens.key, used - tokens.tokens, tokens.at);
  } catch (error) {
    // The reservation lapses on its own; the store stays the source of truth.
    c.exchange.logError(error, "metering failed");
  }
}

/**
 * An upstream answer other than 2xx, as a clear error; the upstream's own words only for a 4xx
 * about the request and a 5xx, and then with credentials removed (some backends echo the
 * `Authorization` they received). A 400, 413 or 422 is answered 400 and a 429 is answered 429,
 * with an OpenAI error body; anything else throws an `UpstreamError` (502).
 */
export async function relayError(c: Relayed, call: UpstreamCall): Promise<unknown> {
  const status = call.response.status;
  const text = await readAll(call).catch(() => "");
  let upstreamMessage = "";
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof m === "string") upstreamMessage = redactUpstreamText(m, c.target.backend.apiKey).slice(0, 500);
  } catch {
    // not JSON: say only the status
  }
  const name = c.target.backend.name;
  if (status === 400 || status === 413 || status === 422) {
    c.exchange.status = 400;
    return openAiErrorBody(`backend "${name}" refused the request: ${upstreamMessage || `status ${status}`}`, "invalid_request_error", "upstream_rejected");
  }
  if (status === 429) {
    // The backend's own wait is what a client's retry should honour (OpenAI's SDKs read both headers).
    c.exchange.status = 429;
    Object.assign(c.exchange.headers, call.response.retryAfter);
    return openAiErrorBody(`backend "${name}" is overloaded; retry later`, "rate_limit_error", "upstream_overloaded");
  }
  {
    throw new UpstreamError(502, `backend "${name}" answered ${status}${upstreamMessage && status !== 401 && status !== 403 ? `: ${upstreamMessage}` : ""}`);
  }
}

/**
 * A 2xx JSON answer, metered with the usage it reports (estimated when it reports none) and
 * relayed without the backend's credential. Nothing is sent when the client went away mid-body;
 * the prompt is metered all the same.
 * @throws UpstreamError (502 or 504) when the body breaks off, times out or is not JSON.
 */
export async function relayJson(c: Relayed, call: UpstreamCall): Promise<unknown> {
  let text: string;
  try {
    text = await readAll(call);
  } catch (error) {
    if (call.aborted() === "client") return void (await endCall(c, { promptTokens: c.promptEstimate, completionTokens: 0 }));
    throw failure(call, c.target.backend.name, error);
  }
  const json = parsedOrUndefined(text);
  if (json === undefined) throw new UpstreamError(502, `backend "${c.target.backend.name}" sent a response that is not JSON`);
  // An embedding has no completion: only its prompt is estimated when the backend reports no usage.
  const estimate = { promptTokens: c.promptEstimate, completionTokens: c.path === "/embeddings" ? 0 : estimateTokens(text.length) };
  await endCall(c, usageOf(json) ?? estimate);
  c.exchange.status = 200;
  c.exchange.headers["content-type"] = "application/json; charset=utf-8";
  if (!isAnswer(json)) return redactKey(text, c.target.backend.apiKey);
  return redactKey(namedAsRequested(text, c.requestedModel) ?? JSON.stringify({ ...json, model: c.requestedModel }), c.target.backend.apiKey);
}

/** `text` parsed as JSON, or undefined when it is not JSON (no JSON text parses to undefined). */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An answer (or stream chunk) object, not an error object: what names the model. */
const isAnswer = (json: unknown): json is Record<string, unknown> => json !== null && typeof json === "object" && !Array.isArray(json) && !("error" in json);

/** `event` carrying `data` instead of its own data lines (its other lines, `event:` or `id:`, kept). */
function withData(event: SseEvent, data: string): SseEvent {
  const otherLines = event.raw.split("\n").filter((line) => line !== "" && !line.startsWith("data:"));
  return { raw: `${[...otherLines, `data: ${data}`].join("\n")}\n\n`, data };
}

// A chunk that carries token counts (`"usage": {…}`; every other chunk has `"usage": null` or none).
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/**
 * Passes the upstream SSE stream through event by event as it arrives (the returned stream is the
 * response body; it is fed in the background). The usage of the final chunk is metered; if the
 * client did not ask for usage, that usage-only chunk is not forwarded.
 */
export function relayStream(c: Relayed, call: UpstreamCall, clientWantsUsage: boolean): PassThrough {
  const out = new PassThrough();
  out.on("error", () => undefined);
  c.exchange.status = 200;
  Object.assign(c.exchange.headers, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
  void pump(c, call, out, clientWantsUsage).finally(() => call.done());
  return out;
}

/**
 * An upstream SSE event as forwarded: never with the backend's credential in it (in any spelling,
 * see `redactKey`), and an error event (`{"error": …}`, which some backends send mid-stream) with
 * bearer-looking tokens removed after its JSON strings are decoded, then sent re-encoded. Error
 * events are rare, so only they pay for the parse.
 */
function relayedEvent(event: SseEvent, apiKey: string | undefined): string {
  const raw = redactKey(event.raw, apiKey);
  if (event.data === undefined || !event.data.includes('"error"')) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    return redactUpstreamText(raw, apiKey);
  }
  const otherLines = raw.split("\n").filter((line) => line !== "" && !line.startsWith("data:"));
  const lines = [...otherLines.map((line) => redactUpstreamText(line, apiKey)), `data: ${JSON.stringify(redactUpstreamJson(parsed, apiKey))}`];
  return `${lines.join("\n")}\n\n`;
}

async function pump(c: Relayed, call: UpstreamCall, out: PassThrough, clientWantsUsage: boolean): Promise<void> {
  const clientGone = c.exchange.clientGone;
  const write = async (text: string) => {
    if (out.destroyed || clientGone.aborted) return;
    if (!out.write(text)) await Promise.race([once(out, "drain"), once(clientGone, "abort")]);
  };
  const splitter = new SseSplitter();
  let usage: TokenUsage | undefined;
  let streamedChars = 0;
  // The events completed by one upstream chunk go out in one write, as they came in one read.
  const forward = async (events: ReturnType<SseSplitter["push"]>) => {
    let relayed = "";
    for (let event of events) {
      if (event.data !== undefined && event.data !== "[DONE]") {
        streamedChars += event.data.length;
        // Only the chunk with the usage is parsed; the others pass as they came, but for their model.
        let json: unknown;
        if (USAGE_OBJECT.test(event.data)) {
          json = parsedOrUndefined(event.data);
          const u = usageOf(json);
          if (u) {
            usage = u;
            const choices = (json as { choices?: unknown }).choices;
            if (!clientWantsUsage && Array.isArray(choices) && choices.length === 0) continue;
          }
        }
        // In the event as received (its data line verbatim), so that nothing else of it changes; an
        // event that may be an error object, or that a text edit cannot be sure of, is parsed.
        const named = event.data.includes('"error"') ? undefined : eventNamedAsRequested(event.raw, c.requestedModel);
        if (named !== undefined) {
          if (named !== event.raw) event = { raw: named, data: event.data };
        } else {
          json ??= parsedOrUndefined(event.data);
          if (isAnswer(json)) event = withData(event, JSON.stringify({ ...json, model: c.requestedModel }));
        }
      }
      relayed += relayedEvent(event, c.target.backend.apiKey);
    }
    if (relayed !== "") await write(relayed);
  };
  try {
    for await (const chunk of call.response.body) {
      call.touch();
      await forward(splitter.push(chunk));
    }
    await forward(splitter.finish());
  } catch (error) {
    if (call.aborted() === "timeout") {
      await write(sseError(`backend "${c.target.backend.name}" fell silent for ${call.timeoutMs} ms mid-stream`, "timeout_error", "upstream_timeout"));
    } else if (call.aborted() !== "client") {
      const e = failure(call, c.target.backend.name, error);
      await write(sseError(e.message, "upstream_error", e.code));
    }
  }
  await endCall(c, usage ?? { promptTokens: c.promptEstimate, completionTokens: estimateTokens(streamedChars) });
  out.end();
}
