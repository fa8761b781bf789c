import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream/promises";
import { apiFailure, type CliError } from "./errors.ts";

/**
 * The HTTP client: builds requests against the API base, sends them with the bearer key and turns
 * every failure (API error, unreachable server, non-JSON answer) into one sentence saying what went
 * wrong and what to do.
 */
type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface ApiRequest {
  method: Method;
  /** Path below the base, starting with `/`; ids in it are already encoded. */
  path: string;
  /** Query parameters; a list is sent as the parameter repeated (`groupBy=a&groupBy=b`). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
}

interface ApiErrorBody {
  error?: { code?: number; status?: string; message?: string };
}

/** What to do about each API status, appended to the server's message. */
const ADVICE: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: "correct the arguments and run the command again",
  OUT_OF_RANGE: "correct the arguments and run the command again",
  UNAUTHENTICATED: "check --api-key / FIREWORKS_API_KEY, store a valid key with 'firectl set-api-key KEY', or run 'firectl signin'",
  PERMISSION_DENIED: "use the API key of a principal whose role allows this (account management needs an admin)",
  NOT_FOUND: "check the name and the account (-a/--account-id); the list command shows what exists",
  ALREADY_EXISTS: "choose another id, or use the existing resource",
  ABORTED: "another change got there first; run the command again",
  RESOURCE_EXHAUSTED: "a quota or rate limit was reached; see 'firectl quota list' or ask an admin to raise it",
  UNIMPLEMENTED: "this server does not take that request; check that firectl and the server are of the same version",
  INTERNAL: "the server failed; try again later or ask the operator to check its logs",
  UNAVAILABLE: "the server is not ready; try again later",
};

/**
 * A refusal by the API key itself (its scopes, networks, models or limits: the server's sentence
 * begins "this API key"), whatever its principal's role: an admin's key is refused so too, so the
 * role's advice would send an admin looking for an admin.
 */
const KEY_REFUSAL = /^this API key\b/;
const KEY_ADVICE = "this API key's own scopes or restrictions refuse it, whatever its principal's role: use a key without them";

/**
 * What to do about a failure, appended to the server's message; none when the server's refusal of
 * the key already says what to use instead ("…; use an unrestricted key or a console session").
 */
function adviceFor(status: string, httpStatus: number, message: string): string | undefined {
  if (status === "PERMISSION_DENIED" && KEY_REFUSAL.test(message)) return /; use /.test(message) ? undefined : KEY_ADVICE;
  return ADVICE[status] ?? (httpStatus >= 500 ? ADVICE.INTERNAL : undefined);
}

/** Masks a key for display: the format prefix (`hk_`) stays, the secret does not. */
export function maskKey(key: string | undefined): string {
  if (!key) return "(none)";
  const prefix = /^[A-Za-z]{1,8}_/.exec(key)?.[0] ?? "";
  return `${prefix}****`;
}

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed unexpectedly",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS problem (${code})`;
  return cause?.message ?? (error as Error).message;
}

/** The request timeout; long enough for a slow database, short enough that a hung server is noticed. */
const TIMEOUT_MS = 60_000;

/**
 * One HTTP exchange with node:http(s). Not `fetch`: fetch refuses "bad ports" (9, 25, …) with a
 * message that hides what happened, and its network errors carry less detail.
 */
function exchange(url: URL, method: Method, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error("timed out"), { code: "FIRECTL_TIMEOUT" })));
    req.on("error", reject);
    req.end(body);
  });
}

export class HearthClient {
  readonly base: string;
  readonly #userAgent: string;

  constructor(base: string, userAgent: string) {
    this.base = base;
    this.#userAgent = userAgent;
  }

  url(request: ApiRequest): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(name, item);
      else if (value !== undefined && value !== "") params.set(name, String(value));
    }
    const query = params.toString();
    return `${this.base}${request.path}${query ? `?${query}` : ""}`;
  }

  /** What `--dry-run` prints: method, URL, headers (credential masked) and body. */
  describe(request: ApiRequest, format: "text" | "json", bearer: string | undefined): string {
    const headers: Record<string, string> = { Authorization: `Bearer ${maskKey(bearer)}` };
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    if (format === "json") {
      return `${JSON.stringify({ dryRun: true, method: request.method, url: this.url(request), headers, body: request.body ?? null })}\n`;
    }
    const lines = [`${request.method} ${this.url(request)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (request.body !== undefined) lines.push("", JSON.stringify(request.body, null, 2));
    return `${lines.join("\n")}\n\n`;
  }

  /** Sends a request (with the bearer credential, if any) and returns the parsed JSON answer, or throws a CliError with exit code 1. */
  async send<T>(request: ApiRequest, bearer?: string): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.#userAgent };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    let answer: { status: number; text: string };
    try {
      answer = await exchange(new URL(this.url(request)), request.method, headers, body);
    } catch (error) {
      if ((error as { code?: string }).code === "FIRECTL_TIMEOUT") {
        throw apiFailure(
          `Hearth at ${this.base} did not answer within ${TIMEOUT_MS / 1000} seconds; check that the server is healthy and --api-base / FIREWORKS_API_BASE is right`,
        );
      }
      throw apiFailure(`cannot reach Hearth at ${this.base}: ${networkReason(error)}; check --api-base / FIREWORKS_API_BASE`);
    }
    let parsed: unknown;
    try {
      parsed = answer.text === "" ? {} : JSON.parse(answer.text);
    } catch {
      throw apiFailure(
        `${this.base} answered ${request.method} ${request.path} with HTTP ${answer.status} and no JSON; check that --api-base / FIREWORKS_API_BASE points at Hearth`,
      );
    }
    if (answer.status < 200 || answer.status > 299) throw this.#failure(answer.status, parsed as ApiErrorBody);
    return parsed as T;
  }

  /**
   * Sends a GET and streams a 2xx answer's body into `sink` as it arrives (an export of any size, in
   * constant memory; the server waits while `sink` is slow); any other answer throws a CliError as `send` does.
   */
  async download(request: ApiRequest, bearer: string | undefined, sink: NodeJS.WritableStream): Promise<void> {
    const headers: Record<string, string> = { "user-agent": this.#userAgent };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const url = new URL(this.url(request));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method: "GET", headers }, resolve);
      req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error("timed out"), { code: "FIRECTL_TIMEOUT" })));
      req.on("error", reject);
      req.end();
    }).catch((error: unknown) => {
      throw apiFailure(`cannot reach Hearth at ${this.base}: ${networkReason(error)}; check --api-base / FIREWORKS_API_BASE`);
    });
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      let body: ApiErrorBody = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ApiErrorBody;
      } catch {
        // Not Hearth's error body: the status alone.
      }
      throw this.#failure(status, body);
    }
    // The body may take longer than one request's timeout: only an idle connection times out.
    res.socket.setTimeout(TIMEOUT_MS);
    await pipeline(res, sink, { end: false });
  }

  /** The CliError of an answer that is not a success: the server's message, its status and what to do about it. */
  #failure(httpStatus: number, body: ApiErrorBody): CliError {
    const status = body.error?.status ?? `HTTP ${httpStatus}`;
    const message = body.error?.message?.trim() || `request failed with HTTP ${httpStatus}`;
    const advice = adviceFor(status, httpStatus, message);
    return apiFailure(`${message} (${status})${advice ? `; ${advice}` : ""}`, body.error?.status);
  }
}
