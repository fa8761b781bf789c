import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** How long a connection told to close after its last response may take to flush it (ms). */
const FLUSH_GRACE_MS = 2_000;

/**
 * Shutdown that drains, then ends: when `app` closes, requests in progress finish, and no
 * connection outlives them. Node's `server.close()` closes only the connections idle at that
 * moment, and it stops the header time-out checks, so without this a connection a client opened
 * and sent nothing on (a browser's preconnect, a client pool's spare after an aborted request:
 * Node counts it as awaiting headers, not idle) or a keep-alive connection whose response ends
 * during the drain holds `close()` until the client gives up — up to HEARTH_KEEP_ALIVE_TIMEOUT_MS.
 *
 * On close: a connection serving no request is closed at once; a response whose headers are not
 * yet sent says `Connection: close` (RFC 9112 §9.6); a connection is ended once its last response
 * is done (a reset after FLUSH_GRACE_MS if the client does not close its side).
 */
export function drainOnClose(app: FastifyInstance): void {
  const responses = new Map<Socket, Set<ServerResponse>>();
  let closing = false;
  const end = (socket: Socket) => {
    socket.end();
    setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref();
  };
  app.server.on("connection", (socket: Socket) => {
    responses.set(socket, new Set());
    socket.once("close", () => responses.delete(socket));
  });
  app.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const open = responses.get(socket);
    if (!open) return;
    open.add(res);
    if (closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      open.delete(res);
      if (closing && open.size === 0 && !socket.destroyed) end(socket);
    });
  });
  app.addHook("preClose", (done) => {
    closing = true;
    for (const [socket, open] of responses) {
      if (open.size === 0) socket.destroy();
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    }
    done();
  });
}
