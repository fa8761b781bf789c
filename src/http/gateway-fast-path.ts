/**
 * @module The OpenAI-compatible inference routes without the framework, for what the gateway
 * serves on every call: a valid API key whose request is admitted. The gateway's own steps are the
 * route's (`admitInference`, `forwardInference`); what this skips is Fastify's routing, hooks,
 * schema pass and reply. Anything else is answered by the framework route.
 */
import { IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { FastifyBaseLogger } from "fastify";
import { requireAllowedNetwork } from "../domain/api-key-restrictions.ts";
import { ApiError } from "../domain/errors.ts";
import type { Principal } from "../domain/principal.ts";
import { gatewayExchange, type GatewayExchange } from "../gateway/exchange.ts";
import type { InferencePath } from "../gateway/inference.ts";
import { openAiError } from "../gateway/openai-error.ts";
import { admitInference, forwardInference, type AdmittedCall } from "../gateway/proxy.ts";
import { UpstreamError } from "../gateway/upstream.ts";
import { authenticateApiKey } from "../service/authenticate.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { withPresetActions } from "../service/permission-presets.ts";
import { keyedRequest, type KeyedRequest } from "./fast-path-request.ts";
import { checkJsonDepth, SECURITY_HEADERS } from "./hardening.ts";
import { countFastPathAnswer } from "./metrics.ts";

/** The routes served here, by exact URL (no query string, no trailing slash): both mounts of src/http/routes/inference.ts. */
const ROUTES = new Map<string, InferencePath>(
  ["/inference/v1", "/v1"].flatMap((mount) =>
    (["/chat/completions", "/completions", "/embeddings"] as const).map((path) => [`${mount}${path}`, path] as const),
  ),
);

// A JSON body in UTF-8, as the app's JSON parser reads it; any other Content-Type is the framework's to refuse.
const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;
const LENGTH = /^\d{1,10}$/;

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

/** The request's body as sent (what arrived, if the client broke off: the framework then refuses its length). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const done = () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.once("end", done);
    req.once("error", done);
  });
}

/** The parsed JSON object of a body, or undefined when it is not one (the framework then says why). */
function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  const text = body.toString("utf8");
  try {
    checkJsonDepth(text);
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
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
  const headers: Record<string, string> = { "x-request-id": requestId, ...exchange.headers };
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
 * within the body limit and a Bearer API key: returns false (leaving the request untouched) for
 * anything else. A key the cache's process refuses, a client address its key does not allow, a
 * body that is not a JSON object, and any refusal before the backend is called (the body's fields,
 * the model, permissions, limits) go to `fallback` — the framework route, with the body replayed —
 * which decides again and refuses, audits and counts as every route does. Once admitted, the call
 * is the gateway's (`forwardInference`), its errors written in OpenAI's shape as the framework's
 * error handler writes them. One access-log line per request (`log`), counted and timed in the
 * request metrics.
 */
export function answerInferenceFast(deps: Deps, log: FastifyBaseLogger | undefined, req: IncomingMessage, res: ServerResponse, fallback: Fallback): boolean {
  if (req.method !== "POST") return false;
  const path = ROUTES.get(req.url ?? "");
  const type = req.headers["content-type"];
  const length = req.headers["content-length"];
  if (path === undefined || typeof type !== "string" || !JSON_TYPE.test(type)) return false;
  if (length === undefined || !LENGTH.test(length) || Number(length) > deps.config.bodyLimit || req.headers["transfer-encoding"] !== undefined) return false;
  const keyed = keyedRequest(req, deps);
  if (keyed === undefined) return false;
  serve(deps, log, req, res, fallback, path, keyed).catch((error: unknown) => {
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
): Promise<void> {
  const started = performance.now();
  const reqId = keyed.meta.requestId;
  let principal: Principal;
  try {
    principal = await withPresetActions(deps.store.db, await authenticateApiKey(deps, keyed.token, keyed.meta));
    requireAllowedNetwork(principal.restrictions, keyed.meta.clientIp);
  } catch {
    return fallback(req, res);
  }
  const exchange = gatewayExchange(res, reqId, (err, message) => log?.error({ reqId, err }, message));
  const bytes = await readBody(req);
  const body = jsonObject(bytes);
  const ctx: Ctx = { principal, meta: keyed.meta, checked: [] };
  let admitted: AdmittedCall;
  try {
    if (body === undefined) throw new Error("not a JSON object");
    admitted = await admitInference(deps, ctx, body, path);
  } catch {
    return fallback(replayed(req, bytes), res);
  }
  let written = "";
  res.once("close", () => {
    const ms = performance.now() - started;
    const finished = res.writableFinished;
    const status = !finished && !res.headersSent ? 499 : res.statusCode;
    log?.info({ reqId, method: "POST", path: req.url, status, ms: Math.round(ms * 10) / 10, ...(finished ? {} : { clientClosed: true }) }, "request");
    if (finished) countFastPathAnswer(deps, "POST", req.url!, status, ms, written);
  });
  let result: unknown;
  try {
    result = await forwardInference(deps, ctx, body, admitted, exchange, path);
  } catch (error) {
    const known = error instanceof ApiError || error instanceof UpstreamError ? error : undefined;
    if (!known) log?.error({ reqId, err: error }, "unhandled error");
    const answer = openAiError(known ?? new ApiError("INTERNAL", "internal error"));
    exchange.status = answer.httpStatus;
    Object.assign(exchange.headers, answer.headers);
    result = answer.body;
  }
  written = writeAnswer(res, reqId, exchange, result);
}
