/**
 * @module The HTTP server Fastify runs on (its `serverFactory`), with the fast paths in front of
 * Fastify's handler: `GET /verifyApiKey` (src/http/verify-fast-path.ts) and the inference routes
 * (src/http/gateway-fast-path.ts), the two requests a gateway sends on every proxied call.
 */
import { createServer, ServerResponse, type Server, type ServerOptions } from "node:http";
import type { Socket } from "node:net";
import type { FastifyBaseLogger, FastifyServerFactory } from "fastify";
import type { Deps } from "../service/context.ts";
import { answerInferenceFast } from "./gateway-fast-path.ts";
import { answerVerifyFast } from "./verify-fast-path.ts";

/** What the fast paths learn from the app once it is built: its logger, and whether it is closing. */
export interface FastPathState {
  /** Where their access-log and error lines go (none when logging is off). */
  log?: FastifyBaseLogger;
  /** Set when the app starts to close: from then on every request goes to the framework, which refuses new ones (503). */
  closing?: boolean;
}

/**
 * The server factory. It applies the same server options Fastify applies to a server it makes
 * itself (header and request time-outs, keep-alive, socket time-out). The log level `debug` turns
 * the fast paths off, so that every request gets the framework's log lines; so does closing.
 */
export function fastPathServer(deps: Deps, state: FastPathState): FastifyServerFactory {
  const enabled = deps.config.logLevel !== "debug";
  return (handler, opts) => {
    const o = opts as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number };
    const server: Server = createServer(o.http ?? {}, (req, res) => {
      if (!enabled || state.closing || !(answerVerifyFast(deps, req, res, handler) || answerInferenceFast(deps, state.log, req, res, handler))) {
        handler(req, res);
      }
    });
    // Node closes a CONNECT request's connection without a word when nobody listens for it: the
    // framework answers it instead, as any method its path does not take (405, or 404 for a target
    // no route has), audited as those are; then the connection closes (nothing is tunnelled).
    server.on("connect", (req, socket: Socket) => {
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      res.once("finish", () => socket.end());
      handler(req, res);
    });
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket !== undefined && o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };
}
