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
import { keepHeld, type Admission, type InferencePath, type Target } from "./inference.ts";
import { estimateTokens, generatedChars, usageOf, type TokenUsage } from "./meter.ts";
import { openAiErrorBody } from "./openai-error.ts";
import { redactKey, redactUpstreamJson, redactUpstreamText } from "./redact.ts";
import { namedAsRequested } from "./requested-model.ts";
import { SseSplitter, sseError, type SseEvent } from "./sse.ts";
import { UpstreamError, type UpstreamCall } from "./upstream.ts";
import { isJsonObject } from "../domain/json-object.ts";

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

/** The backend sent something: the idle time-out restarts, and the call's spend stays held (`keepHeld`). */
function alive(c: Relayed, call: UpstreamCall): void {
  call.touch();
  keepHeld(c.deps.cluster.spendLedger, c.admission, Date.now(), (error) => c.exchange.logError(error, "renewing a spend reservation failed"));
}

/**
 * Reads the rest of an upstream body as UTF-8; every chunk is a sign of life (`alive`). Rejects when
 * the body breaks off (an error, or the response closed before its end). Read through listeners
 * rather than an async iterator: a few objects fewer on every call.
 */
function readAll(c: Relayed, call: UpstreamCall): Promise<string> {
  const body = call.response.body;
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    body.on("data", (chunk: Buffer) => {
      alive(c, call);
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
  const text = await readAll(c, call).catch(() => "");
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
 * relayed as `relayedObject` gives it. Nothing is sent when the client went away mid-body; the
 * prompt is metered all the same.
 * @throws UpstreamError (502 or 504) when the body breaks off, times out or is not a JSON object
 * (`null`, an array and HTML are no answer: a client gets a clear 502, not the backend's bytes).
 */
export async function relayJson(c: Relayed, call: UpstreamCall): Promise<unknown> {
  let text: string;
  try {
    text = await readAll(c, call);
  } catch (error) {
    if (call.aborted() === "client") return void (await endCall(c, { promptTokens: c.promptEstimate, completionTokens: 0 }));
    throw failure(call, c.target.backend.name, error);
  }
  // RFC 8259 §8.1: a parser may ignore a byte order mark; the stream's decoder drops it too.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const json = objectOrUndefined(text);
  if (json === undefined) throw new UpstreamError(502, `backend "${c.target.backend.name}" sent a response that is not a JSON object`);
  // An embedding has no completion: only its prompt is estimated when the backend reports no usage.
  const estimate = { promptTokens: c.promptEstimate, completionTokens: c.path === "/embeddings" ? 0 : estimateTokens(generatedChars(json)) };
  await endCall(c, usageOf(json) ?? estimate);
  c.exchange.status = 200;
  Object.assign(c.exchange.headers, call.response.performance);
  c.exchange.headers["content-type"] = "application/json; charset=utf-8";
  return relayedObject(c, text, json, false);
}

/** `text` parsed, when it is a JSON object (RFC 8259 §4); undefined for any other JSON value and for text that is not JSON. */
function objectOrUndefined(text: string): Record<string, unknown> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(json) ? json : undefined;
}

/**
 * What goes to the client for a backend's JSON object `text` (`json` parsed): an answer (or stream
 * chunk) named with the requested model, by editing its text where that is sure
 * (`namedAsRequested`), else serialised again, and never with the backend's credential in it (in
 * any spelling, see `redactKey`); an error object (`{"error": …}`, which some backends send with a
 * 200 or mid-stream) with bearer-looking tokens removed after its JSON strings are decoded, then
 * encoded again. Error objects are rare, so only they pay for that. `oneLine`: the result must hold
 * no line break (an SSE data line), so a text that has one is serialised again.
 */
function relayedObject(c: Relayed, text: string, json: Record<string, unknown>, oneLine: boolean): string {
  const apiKey = c.target.backend.apiKey;
  if ("error" in json) return JSON.stringify(redactUpstreamJson(json, apiKey));
  const named = oneLine && text.includes("\n") ? undefined : namedAsRequested(text, c.requestedModel);
  return redactKey(named ?? JSON.stringify({ ...json, model: c.requestedModel }), apiKey);
}

/**
 * Passes the upstream SSE stream through event by event as it arrives (the returned stream is the
 * response body; it is fed in the background). The usage of the final chunk is metered; if the
 * client did not ask for usage, that usage-only chunk is not forwarded.
 */
export function relayStream(c: Relayed, call: UpstreamCall, clientWantsUsage: boolean): PassThrough {
  const out = new PassThrough();
  out.on("error", () => undefined);
  c.exchange.status = 200;
  Object.assign(c.exchange.headers, call.response.performance, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  void pump(c, call, out, clientWantsUsage).finally(() => call.done());
  return out;
}

/**
 * An upstream event without data as forwarded: its comment lines (a keep-alive such as
 * `: PROCESSING` keeps a client's idle time-out from firing), with bearer-looking tokens removed;
 * nothing when it has none. Its other fields (`event:`, `id:`, `retry:`) are the backend's and are
 * dropped, as they are from every event: a client sees OpenAI's stream shape, data lines only.
 */
function relayedComments(event: SseEvent, apiKey: string | undefined): string {
  const comments = event.raw.split("\n").filter((line) => line.startsWith(":"));
  return comments.length === 0 ? "" : `${comments.map((line) => redactUpstreamText(line, apiKey)).join("\n")}\n\n`;
}

/**
 * Records the choices of a stream chunk (`choices[].index`, OpenAI's chat and completions chunks):
 * each in `begun`, and in `finished` once a chunk gives its `finish_reason`.
 */
function noteChoices(json: Record<string, unknown>, begun: Set<number>, finished: Set<number>): void {
  if (!Array.isArray(json.choices)) return;
  for (const choice of json.choices as unknown[]) {
    if (choice === null || typeof choice !== "object") continue;
    const { index, finish_reason } = choice as { index?: unknown; finish_reason?: unknown };
    // No index is choice 0 (a server streaming one choice may leave it out); an index that is not a
    // whole number names no choice that can finish: such a stream never reads as whole.
    const i = index === undefined ? 0 : Number.isInteger(index) && (index as number) >= 0 ? (index as number) : -1;
    begun.add(i);
    // A chunk after a choice's finish_reason (more content) makes it unfinished again.
    if (i >= 0 && typeof finish_reason === "string" && finish_reason !== "") finished.add(i);
    else finished.delete(i);
  }
}

async function pump(c: Relayed, call: UpstreamCall, out: PassThrough, clientWantsUsage: boolean): Promise<void> {
  const clientGone = c.exchange.clientGone;
  const write = async (text: string) => {
    if (out.destroyed || clientGone.aborted) return;
    if (!out.write(text)) await Promise.race([once(out, "drain"), once(clientGone, "abort")]);
  };
  const splitter = new SseSplitter();
  const backend = c.target.backend;
  let usage: TokenUsage | undefined;
  let streamedChars = 0;
  // A backend sends at least one token a chunk: text of few characters a token (CJK) is not metered below that.
  let generatedChunks = 0;
  // The choices a chunk began and those a chunk finished (`finish_reason`): a stream the backend
  // ends without `[DONE]` is complete when every choice begun has finished.
  const begun = new Set<number>();
  const finished = new Set<number>();
  // The events completed by one upstream chunk go out in one write, as they came in one read; those
  // before a faulty event go out before the error event that ends the stream. True once the stream
  // has ended: at `[DONE]` (read as the OpenAI SDKs read it: data that starts with it) or an error
  // object, after which a backend's further events are not relayed.
  const forward = async (events: SseEvent[]): Promise<boolean> => {
    let relayed = "";
    try {
      for (const event of events) {
        const data = event.data;
        if (data === undefined) relayed += relayedComments(event, backend.apiKey);
        else if (data.startsWith("[DONE]")) {
          relayed += "data: [DONE]\n\n";
          return true;
        } else {
          // Every chunk is parsed (about 0.7 µs for a typical one) so that none but a JSON object reaches the client.
          const json = objectOrUndefined(data);
          if (json === undefined) throw new UpstreamError(502, `backend "${backend.name}" sent a stream event that is not a JSON object`);
          const generated = generatedChars(json);
          streamedChars += generated;
          if (generated > 0) generatedChunks++;
          usage = usageOf(json) ?? usage;
          noteChoices(json, begun, finished);
          // The usage-only chunk Hearth asked for on the client's behalf (a believable report or not).
          if (!clientWantsUsage && json.usage && Array.isArray(json.choices) && json.choices.length === 0) continue;
          relayed += `data: ${relayedObject(c, data, json, true)}\n\n`;
          if ("error" in json) return true;
        }
      }
      return false;
    } finally {
      if (relayed !== "") await write(relayed);
    }
  };
  const body = call.response.body;
  let ended = false;
  try {
    // Not destroyed when the loop stops at the answer's end: its socket can go back to the pool (`drain`).
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      alive(c, call);
      if ((ended = await forward(splitter.push(chunk)))) break;
    }
    if (!ended) ended = await forward(splitter.finish());
    // Some OpenAI-compatible servers end a stream without `[DONE]`. The OpenAI SDKs then stop
    // reading without an error, so a client could not tell a cut-short answer from a whole one:
    // a whole one gets the `[DONE]` OpenAI sends, any other the error event below.
    if (!ended) {
      if (begun.size === 0 || finished.size < begun.size)
        throw new UpstreamError(502, `backend "${backend.name}" ended the stream before its answer was complete`);
      await write("data: [DONE]\n\n");
    }
  } catch (error) {
    // Nothing more is read from a backend that broke the stream: its socket is not reused.
    body.destroy();
    if (call.aborted() === "timeout") {
      await write(sseError(`backend "${c.target.backend.name}" fell silent for ${call.timeoutMs} ms mid-stream`, "timeout_error", "upstream_timeout"));
    } else if (call.aborted() !== "client") {
      const e = failure(call, c.target.backend.name, error);
      await write(sseError(e.message, "upstream_error", e.code));
    }
  }
  if (ended) drain(body);
  await endCall(c, usage ?? { promptTokens: c.promptEstimate, completionTokens: Math.max(estimateTokens(streamedChars), generatedChunks) });
  out.end();
}

/** How long a backend may go on sending after its stream's end (`[DONE]`, an error event) before its socket is closed, in milliseconds. */
const DRAIN_MS = 1000;

/**
 * Reads and drops what a backend sends after its stream's end (usually only the chunked body's
 * terminator, already on its way), so that the response completes and its keep-alive socket goes back
 * to the pool instead of being closed: a closed socket costs the next call a new connection. A
 * backend still sending `DRAIN_MS` later loses the socket.
 */
function drain(body: UpstreamCall["response"]["body"]): void {
  if (body.complete || body.destroyed) return;
  const timer = setTimeout(() => body.destroy(), DRAIN_MS).unref();
  body.once("close", () => clearTimeout(timer));
  body.on("error", () => undefined);
  body.resume();
}
