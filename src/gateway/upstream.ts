import http from "node:http";
import https from "node:https";
import { urlToHttpOptions } from "node:url";
import { BackendFailure, cancelled } from "../domain/errors.ts";
import type { Backend } from "../platform-config.ts";

/**
 * Calls to OpenAI-compatible backends. The backend credential is added here and nowhere else;
 * errors name the backend and what went wrong, never the credential or the upstream headers.
 */
export class UpstreamError extends BackendFailure {
  readonly code: "upstream_error" | "upstream_timeout";

  constructor(httpStatus: 502 | 504, message: string) {
    super(httpStatus, message);
    this.name = "UpstreamError";
    this.code = httpStatus === 504 ? "upstream_timeout" : "upstream_error";
  }
}

function headersFor(backend: Backend, extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (backend.apiKey) headers.authorization = `Bearer ${backend.apiKey}`;
  return headers;
}

/** Why a fetch failed, as a sentence without internal detail. */
function reasonOf(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ECONNRESET") return "connection reset";
  if (code) return code;
  return e.cause?.message ?? e.message ?? "request failed";
}

/**
 * Readiness probe: GET `{baseUrl}/models` must answer 2xx within `timeoutMs`. Returns the reason
 * when it does not.
 */
export async function probeBackend(backend: Backend, timeoutMs: number): Promise<string | undefined> {
  const limit = Math.min(timeoutMs, backend.timeoutMs);
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const res = await request(
      destinationOf(new URL(`${backend.baseUrl}/models`)),
      "GET",
      headersFor(backend, { accept: "application/json" }),
      undefined,
      (req) => {
        // The limit bounds the body too: a backend that stalls after its headers does not keep a pooled socket.
        timer = setTimeout(() => {
          timedOut = true;
          req.destroy();
        }, limit).unref();
      },
    );
    res.once("close", () => clearTimeout(timer));
    res.resume();
    const status = res.statusCode ?? 0;
    return status >= 200 && status < 300 ? undefined : `backend "${backend.name}" answered ${status} to GET /models`;
  } catch (error) {
    clearTimeout(timer);
    if (timedOut) return `backend "${backend.name}" did not answer GET /models within ${limit} ms`;
    return `backend "${backend.name}" is unreachable (${reasonOf(error)})`;
  }
}

/** An upstream answer whose body is still arriving. */
interface UpstreamResponse {
  status: number;
  ok: boolean;
  contentType: string;
  /** The backend's `retry-after` (and OpenAI's `retry-after-ms`) when well-formed, to relay with a 429. */
  retryAfter: Record<string, string>;
  /** The backend's `fireworks-*` performance headers, to relay with a 2xx answer (`performanceHeaders`). */
  performance: Record<string, string>;
  /** The body as it arrives, in chunks of bytes. */
  body: http.IncomingMessage;
}

// RFC 9110 §10.2.3: delay-seconds, or an HTTP-date (IMF-fixdate, e.g. "Fri, 04 Dec 2026 16:00:00 GMT").
const DELAY_SECONDS = /^\d{1,9}$/;
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
// OpenAI's SDKs read `retry-after-ms` first: milliseconds, possibly fractional.
const DELAY_MS = /^\d{1,12}(\.\d{1,6})?$/;

const PERFORMANCE_PREFIX = "fireworks-";
// A value worth relaying is a short run of printable ASCII: numbers, durations, ids.
const PERFORMANCE_VALUE = /^[\x20-\x7e]{1,256}$/;
const MAX_PERFORMANCE_HEADERS = 32;

/**
 * The `fireworks-*` headers of an upstream answer (Fireworks' per-request performance headers such
 * as `fireworks-prompt-tokens` and `fireworks-server-time-to-first-token`, which its Python SDK's
 * `perf_metrics_in_response` documents on every non-streamed answer), so that a Fireworks backend's
 * reach the client as they would from Fireworks itself: at most 32, each value printable ASCII of at
 * most 256 characters; a name that mentions a key, a token's secret or authorization is not relayed.
 */
function performanceHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const name in headers) {
    if (!name.startsWith(PERFORMANCE_PREFIX) || /key|secret|auth|cookie/.test(name)) continue;
    const value = headers[name];
    if (typeof value !== "string" || !PERFORMANCE_VALUE.test(value)) continue;
    out[name] = value;
    if (++count === MAX_PERFORMANCE_HEADERS) break;
  }
  return out;
}

/** The retry headers of an upstream answer that can be relayed as they are; anything else is dropped. */
function retryHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const after = headers["retry-after"]?.trim();
  if (after && (DELAY_SECONDS.test(after) || (IMF_FIXDATE.test(after) && !Number.isNaN(Date.parse(after))))) out["retry-after"] = after;
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string" && DELAY_MS.test(ms.trim())) out["retry-after-ms"] = ms.trim();
  return out;
}

export interface UpstreamCall {
  response: UpstreamResponse;
  timeoutMs: number;
  /** Aborts the upstream request (client gone, idle time-out). */
  abort: (reason: "client" | "timeout") => void;
  /** Why it was aborted, if it was. */
  aborted: () => "client" | "timeout" | undefined;
  /** Restarts the time-out: call on every chunk received (idle time-out while streaming). */
  touch: () => void;
  /** Stops the time-out (the call is over). */
  done: () => void;
}

// One keep-alive pool per upstream origin. node:http rather than fetch: on loopback it answers in
// about half of fetch's time (measured with bench/gateway.ts), and it takes every port (fetch
// refuses "bad ports" such as 6000).
const agents = new Map<string, http.Agent>();

function agentFor(url: URL): http.Agent {
  let agent = agents.get(url.origin);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 512, maxFreeSockets: 64 };
    agent = url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    agents.set(url.origin, agent);
  }
  return agent;
}

/** Where requests go: the client module and the options `http.request` takes for the URL, computed once. */
interface Destination {
  client: typeof http | typeof https;
  options: Readonly<http.RequestOptions>;
}

function destinationOf(url: URL): Destination {
  return { client: url.protocol === "https:" ? https : http, options: Object.freeze({ ...urlToHttpOptions(url), agent: agentFor(url) }) };
}

/**
 * One request on the origin's keep-alive pool; resolves with the response once its headers arrive.
 * `headers` are sent as they are: a caller with a `body` gives its `content-length`.
 * `started` receives the request as soon as it exists, so that a caller can destroy it (which also
 * ends a response already under way).
 */
function request(
  to: Destination,
  method: "GET" | "POST",
  headers: Record<string, string>,
  body: string | undefined,
  started: (req: http.ClientRequest) => void,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = to.client.request({ ...to.options, method, headers }, resolve);
    req.on("error", reject);
    started(req);
    req.end(body);
  });
}

/** Where a backend's POSTs go and the headers they carry but the request id, per path: computed once per backend. */
const postTargets = new WeakMap<Backend, Map<string, { to: Destination; headers: Readonly<Record<string, string>> }>>();

function postTarget(backend: Backend, path: string): { to: Destination; headers: Readonly<Record<string, string>> } {
  let byPath = postTargets.get(backend);
  if (!byPath) postTargets.set(backend, (byPath = new Map()));
  let target = byPath.get(path);
  if (!target) {
    const headers = Object.freeze(headersFor(backend, { "content-type": "application/json", accept: "application/json, text/event-stream" }));
    byPath.set(path, (target = { to: destinationOf(new URL(`${backend.baseUrl}${path}`)), headers }));
  }
  return target;
}

/**
 * POSTs a JSON body to `{baseUrl}{path}`. `timeoutMs` bounds the wait for response headers and
 * then each silence between chunks; `clientGone` (the client going away) cancels the upstream call.
 */
export async function postUpstream(backend: Backend, path: string, body: string, requestId: string, clientGone: AbortSignal): Promise<UpstreamCall> {
  // The request itself is destroyed on abort, rather than through an AbortSignal: one EventTarget
  // and its listeners fewer per call on the gateway's hot path.
  let outgoing: http.ClientRequest | undefined;
  let why: "client" | "timeout" | undefined;
  const abort = (reason: "client" | "timeout") => {
    if (why) return;
    why = reason;
    outgoing?.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    if (timer) timer.refresh();
    else timer = setTimeout(() => abort("timeout"), backend.timeoutMs);
  };
  const done = () => {
    if (timer) clearTimeout(timer);
    clientGone.removeEventListener("abort", onClientGone);
  };
  const onClientGone = () => abort("client");
  if (clientGone.aborted) abort("client");
  clientGone.addEventListener("abort", onClientGone);
  touch();
  try {
    const { to, headers } = postTarget(backend, path);
    const all = { ...headers, "x-request-id": requestId, "content-length": String(Buffer.byteLength(body)) };
    const res = await request(to, "POST", all, body, (req) => {
      outgoing = req;
      if (why) req.destroy();
    });
    touch();
    const status = res.statusCode ?? 502;
    const response = {
      status,
      ok: status >= 200 && status < 300,
      contentType: String(res.headers["content-type"] ?? ""),
      retryAfter: retryHeaders(res.headers),
      performance: performanceHeaders(res.headers),
      body: res,
    };
    return { response, timeoutMs: backend.timeoutMs, abort, aborted: () => why, touch, done };
  } catch (error) {
    done();
    if (why === "timeout") throw new UpstreamError(504, `backend "${backend.name}" did not answer within ${backend.timeoutMs} ms`);
    if (why === "client") throw cancelled("the client closed the request");
    throw new UpstreamError(502, `backend "${backend.name}" is unreachable (${reasonOf(error)})`);
  }
}
