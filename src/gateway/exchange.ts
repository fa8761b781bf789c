/**
 * @module What the gateway needs of the HTTP exchange it answers, whichever server read the
 * request: the framework route (src/http/routes/inference.ts) or the fast path in front of it
 * (src/http/gateway-fast-path.ts). The gateway decides the answer's status and headers as the call
 * goes; the server writes them with the body the gateway returns.
 */
import type { ServerResponse } from "node:http";

export interface GatewayExchange {
  /** The request's id, sent on to the backend as `x-request-id`. */
  readonly requestId: string;
  /** Aborts when the client goes away before its answer was written whole. */
  readonly clientGone: AbortSignal;
  /** The answer's HTTP status: 200 until the gateway says otherwise. */
  status: number;
  /** The answer's headers the gateway adds (rate-limit headers, content type, a backend's retry-after), lower-case names. */
  readonly headers: Record<string, string>;
  /** Logs a failure of the call's bookkeeping (metering), which the client does not see. */
  logError(error: unknown, message: string): void;
}

/**
 * An exchange answered on `res`, whose `clientGone` aborts when `res` closes before it finished,
 * or at once when it already has (a client that left while its request was read or admitted).
 */
export function gatewayExchange(res: ServerResponse, requestId: string, logError: GatewayExchange["logError"]): GatewayExchange {
  const gone = new AbortController();
  if (res.destroyed) gone.abort();
  else
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
    });
  return { requestId, clientGone: gone.signal, status: 200, headers: {}, logError };
}
