import { cancelled } from "../domain/errors.ts";

/**
 * `error` as the client's doing when it is a request body cut off by the client closing its
 * connection (Node's "aborted" / ECONNRESET, a stream closed early): CANCELLED (499), so the
 * upload it cut is audited as cancelled by the client rather than as an internal error; any
 * other error is returned as it is.
 */
export function clientGone(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const gone = code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (error instanceof Error && error.message === "aborted");
  return gone ? cancelled("the client closed the connection before the request body was complete") : error;
}

/** The bytes of a request body, as they arrive; a body the client cut off fails with CANCELLED (see `clientGone`). */
export async function* clientBytes(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    for await (const piece of body) yield piece;
  } catch (error) {
    throw clientGone(error);
  }
}
