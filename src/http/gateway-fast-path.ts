/**
 * @module The OpenAI-compatible inference routes without the framework, for what the gateway
 * serves on every call: a valid API key and a JSON body. The gateway's work is the route's own
 * (`proxyInference`); what this skips is Fastify's routing, hooks, schema pass and reply. A request
 * it does not take, or whose key it cannot accept, is answered by the framework route.
 */
import { IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { FastifyBaseLogger } from "fastify";
import { requireAllowedNetwork } from "../domain/api-key-restrictions.ts";
import { ApiError } from "../domain/errors.ts";
import { gatewayExchange, type GatewayExchange } from "../gateway/exchange.ts";
import type { InferencePath } from "../gateway/inference.ts";
import { openAiError } from "../gateway/openai-error.ts";
import { inferenceOperation, proxyInference } from "../gateway/proxy.ts";
import { inferenceEndpoint } from "../gateway/inference-routes.ts";
import { UpstreamError } from "../gateway/upstream.ts";
import { auditRefused } from "../service/audit.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { withPresetActions } from "../service/permission-presets.ts";
import { keyedRequest, type KeyedRequest } from "./fast-path-request.ts";
import { parseJsonBody, SECURITY_HEADERS } from "./hardening.ts";
import { inexactNumber } from "../domain/json-inexact-number.ts";
import { inferenceRequestBody } from "./routes/inference.ts";
import { countFastPathAnswer } from "./metrics.ts";
import { isJsonObject } from "../domain/json-object.ts";
import { strictUtf8 } from "../domain/utf8.ts";
import { wholeNumber } from "../domain/whole-number.ts";

// A JSON body in UTF-8, as the app's JSON parser reads it; any other Content-Type is the framework's to refuse.
const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;

/** Hands a request the fast path will not answer to the framework (its handler). */
export type Fallback = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `req` again with its body, already read here, for the framework to read: the same socket,
 * method, URL and headers. Marked complete, so that ending it does not close the connection.
 */
function replayed(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}

/**
 * The request's body: `whole` once all `length` bytes (its `Content-Length`) have arrived; when the
 * client broke off or had already gone, what did arrive, and `whole` false.
 */
function readBody(req: IncomingMessage, length: number): Promise<{ body: Buffer; whole: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const settle = (whole: boolean) => {
      req.off("close", broken);
      resolve({ body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), whole: whole && size === length });
    };
    const broken = () => settle(false);
    if (req.destroyed) return settle(false);
    req.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
    });
    req.once("end", () => settle(true));
    req.once("error", broken);
    req.once("close", broken);
  });
}

/**
 * The parsed JSON object of a body, or undefined when it is not one, not UTF-8 or holds a number it
 * would forward changed (`inexactNumber`): the framework then says why.
 */
function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const text = strictUtf8(body);
    const value = parseJsonBody(text);
    return isJsonObject(value) && inexactNumber(text) === undefined ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the gateway's answer as the framework route would: the request id, the exchange's
 * headers, the security headers the route did not set, and the body — a stream piped, a string as
 * it is (`text/plain` unless the gateway named a type), an object as JSON. Returns the body written
 * when it is not a stream (for the 429 metric).
 */
function writeAnswer(res: ServerResponse, requestId: string, exchange: GatewayExchange, result: unknown): string {
  // The exchange's own headers object, which this answer ends: one copy fewer per call.
  const headers = exchange.headers;
  headers["x-request-id"] ??= requestId;
  for (const name in SECURITY_HEADERS) headers[name] ??= SECURITY_HEADERS[name]!;
  if (result instanceof Readable) {
    res.writeHead(exchange.status, headers);
    result.pipe(res);
    return "";
  }
  const body = typeof result === "string" ? result : JSON.stringify(result ?? {});
  headers["content-type"] ??= typeof result === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
  headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(exchange.status, headers);
  res.end(body);
  return body;
}

/**
 * Serves a `POST` to one of the inference routes when it carries a JSON body of a declared length
 * within the body limit and an API key (`Authorization: Bearer` or `x-api-key`): returns false (leaving the request untouched) for
 * anything else. Once the body has arrived, a body that is not a JSON object or that the route's
 * declared schema refuses (`inferenceRequestBody`), a key the cache's process refuses, and a
 * client address its key does not allow go to `fallback` — the framework route, with the body
 * replayed — which refuses, audits and throttles as every route does. Any other request is the gateway's (`proxyInference`, as the framework route calls it),
 * its refusals and failures audited and written in OpenAI's shape as the router and the error
 * handler do. One access-log line per request (`log`), counted and timed in the request metrics.
 */
export function answerInferenceFast(deps: Deps, log: FastifyBaseLogger | undefined, req: IncomingMessage, res: ServerResponse, fallback: Fallback): boolean {
  if (req.method !== "POST") return false;
  const path = inferenceEndpoint(req.url ?? "");
  const type = req.headers["content-type"];
  const length = req.headers["content-length"];
  if (path === undefined || typeof type !== "string" || !JSON_TYPE.test(type)) return false;
  const size = length === undefined ? undefined : wholeNumber(length, 0, deps.config.bodyLimit);
  // A compressed (or so labelled) body is the framework's to refuse.
  if (size === undefined || req.headers["transfer-encoding"] !== undefined || req.headers["content-encoding"] !== undefined) return false;
  const keyed = keyedRequest(req, deps);
  if (keyed === undefined) return false;
  serve(deps, log, req, res, fallback, path, keyed, size).catch((error: unknown) => {
    log?.error({ reqId: keyed.meta.requestId, err: error }, "unhandled error");
    res.destroy();
  });
  return true;
}

async function serve(
  deps: Deps,
  log: FastifyBaseLogger | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  fallback: Fallback,
  path: InferencePath,
  keyed: KeyedRequest,
  length: number,
): Promise<void> {
  const started = performance.now();
  const reqId = keyed.meta.requestId;
  // The body first, as the framework reads it: the key is checked once it has arrived, so that a
  // key disabled while a slow client still sends its body is refused like any other.
  const { body: bytes, whole } = await readBody(req, length);
  const replay = () => fallback(replayed(req, bytes), res);
  const body = whole ? jsonObject(bytes) : undefined;
  // A body the route's declared schema refuses is refused by the route, in its words.
  if (body === undefined || !inferenceRequestBody.safeParse(body).success) return replay();
  let ctx: Ctx;
  try {
    const principal = await withPresetActions(deps.store.db, await authenticateApiKey(deps, keyed.token, keyed.meta));
    requireAllowedNetwork(principal.restrictions, keyed.meta.clientIp);
    ctx = { principal, meta: keyed.meta, checked: [] };
  } catch {
    return replay();
  }
  const exchange = gatewayExchange(res, reqId, (err, message) => log?.error({ reqId, err }, message));
  // The call is this path's from here: its access-log line and metrics when the response closes
  // (499 when the client left before the headers), or at the end when it had already left.
  let written = "";
  const closed = () => {
    const ms = performance.now() - started;
    const finished = res.writableFinished;
    const status = !finished && !res.headersSent ? 499 : res.statusCode;
    const line = { reqId, method: "POST", path: req.url, status, ms: Math.round(ms * 10) / 10 };
    log?.info(finished ? line : { ...line, clientClosed: true }, "request");
    if (finished) countFastPathAnswer(deps, "POST", req.url!, status, ms, written);
  };
  const goneBefore = res.destroyed;
  if (!goneBefore) res.once("close", closed);
  let result: unknown;
  try {
    result = await proxyInference(deps, ctx, body, exchange, path);
  } catch (error) {
    // Refused or failed: audited and written as the framework route does (src/http/route.ts, src/http/errors.ts).
    let failure = error;
    await auditRefused(deps, ctx, inferenceOperation(body, path), error).catch((auditError: unknown) => (failure = auditError));
    const known = failure instanceof ApiError || failure instanceof UpstreamError ? failure : undefined;
    if (!known) log?.error({ reqId, err: failure }, "unhandled error");
    const answer = openAiError(known ?? new ApiError("INTERNAL", "internal error"));
    exchange.status = answer.httpStatus;
    Object.assign(exchange.headers, answer.headers);
    result = answer.body;
  }
  written = writeAnswer(res, reqId, exchange, result);
  if (goneBefore) closed();
}
