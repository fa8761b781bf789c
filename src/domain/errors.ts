/**
 * The one list of error codes Hearth speaks (google.rpc names) and their HTTP statuses.
 * Services throw `ApiError`; only the HTTP error handler turns it into
 * `{"error": {"code", "status", "message"}}`.
 */
import { escapeRefused } from "./display-text.ts";
import { withoutKeys } from "./key-shapes.ts";

const STATUS_HTTP = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  // The client went away before its request was complete: google.rpc CANCELLED, whose HTTP mapping
  // (499, "Client Closed Request") nginx introduced; nobody reads the answer, the audit log does.
  CANCELLED: 499,
  // google.rpc has no code for a method a path does not take; Hearth answers it as grpc-gateway's
  // routing does (UNIMPLEMENTED) with HTTP's own status for it, 405 (RFC 9110 §15.5.6).
  UNIMPLEMENTED: 405,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type StatusName = keyof typeof STATUS_HTTP;

/**
 * Every status an audit entry may record, by its google.rpc name: `OK` for a success, each code an
 * ApiError carries, and DEADLINE_EXCEEDED for a backend that did not answer in time (`BackendFailure`).
 */
export const AUDITED_STATUS_NAMES: readonly string[] = ["OK", ...Object.keys(STATUS_HTTP), "DEADLINE_EXCEEDED"];

const REQUEST_INFO = "type.googleapis.com/google.rpc.RequestInfo";

/** google.rpc.RequestInfo, as an error's `details` entry: which request failed. */
export interface RequestInfo {
  "@type": typeof REQUEST_INFO;
  requestId: string;
}

export class ApiError extends Error {
  readonly status: StatusName;
  /** Extra response headers (e.g. WWW-Authenticate, rate-limit headers). */
  readonly headers: Record<string, string>;

  /**
   * `message` is kept without any API key it quotes (`withoutKeys`), and with every control, bidi or
   * other invisible format character written as `\uXXXX` (`escapeRefused`): a message may quote what
   * a client sent, and is shown (firectl, the console) and stored (the audit log) as it is.
   */
  constructor(status: StatusName, message: string, headers: Record<string, string> = {}) {
    super(escapeRefused(withoutKeys(message)));
    this.name = "ApiError";
    this.status = status;
    this.headers = headers;
  }

  get httpCode(): number {
    return STATUS_HTTP[this.status];
  }

  /**
   * The google.rpc.Status JSON body; with a request id, `details` carries a
   * `google.rpc.RequestInfo` naming it (the same id as the `x-request-id` header and the log line).
   */
  toJSON(requestId?: string): { error: { code: number; status: StatusName; message: string; details?: RequestInfo[] } } {
    const error = { code: this.httpCode, status: this.status, message: this.message };
    return { error: requestId ? { ...error, details: [{ "@type": REQUEST_INFO, requestId }] } : error };
  }
}

export const invalidArgument = (message: string): ApiError => new ApiError("INVALID_ARGUMENT", message);
export const failedPrecondition = (message: string): ApiError => new ApiError("FAILED_PRECONDITION", message);
export const notFound = (message: string): ApiError => new ApiError("NOT_FOUND", message);
/** The client closed the connection before its request was complete (CANCELLED, 499). */
export const cancelled = (message: string): ApiError => new ApiError("CANCELLED", message);
/** A concurrency conflict (AIP-193 ABORTED, 409): another change won; the caller may retry. */
export const aborted = (message: string): ApiError => new ApiError("ABORTED", message);
/**
 * A path Hearth serves, asked with a method it does not take: 405 with `Allow` (RFC 9110 §15.5.6),
 * e.g. "GET is not allowed on /v1/accounts/a/webhooks/w1:rotateSecret; it takes POST".
 */
export const methodNotAllowed = (method: string, path: string, allowed: string[]): ApiError =>
  new ApiError("UNIMPLEMENTED", `${method} is not allowed on ${path}; it takes ${allowed.join(", ")}`, { allow: allowed.join(", ") });
export const alreadyExists = (message: string): ApiError => new ApiError("ALREADY_EXISTS", message);
export const permissionDenied = (message: string): ApiError => new ApiError("PERMISSION_DENIED", message);
export const resourceExhausted = (message: string, headers: Record<string, string> = {}): ApiError => new ApiError("RESOURCE_EXHAUSTED", message, headers);
/** The challenge every 401 carries (RFC 6750 §3). */
export const BEARER_CHALLENGE: Readonly<Record<string, string>> = Object.freeze({ "www-authenticate": 'Bearer realm="hearth"' });
export const unauthenticated = (message: string): ApiError => new ApiError("UNAUTHENTICATED", message, { ...BEARER_CHALLENGE });

/**
 * A backend's failure that a request ends with (the gateway's UpstreamError): 502, or 504 when the
 * backend did not answer in time. Not an internal error of Hearth's: its refusal's audit entry
 * records this status and sentence, under the google.rpc name `status` (UNAVAILABLE, DEADLINE_EXCEEDED).
 */
export class BackendFailure extends Error {
  readonly httpStatus: 502 | 504;

  constructor(httpStatus: 502 | 504, message: string) {
    super(message);
    this.name = "BackendFailure";
    this.httpStatus = httpStatus;
  }

  get status(): "UNAVAILABLE" | "DEADLINE_EXCEEDED" {
    return this.httpStatus === 504 ? "DEADLINE_EXCEEDED" : "UNAVAILABLE";
  }
}
