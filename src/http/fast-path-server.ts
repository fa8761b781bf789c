/**
 * @module The HTTP server Fastify runs on (its `serverFactory`), with the fast paths in front of
 * Fastify's handler: `GET /verifyApiKey` (src/http/verify-fast-path.ts) and the inference routes
 * (src/http/gateway-fast-path.ts), the two requests a gateway sends on every proxied call.
 */
import { createServer, type Server, type ServerOptions } from "node:http";
import type { FastifyBaseLogger, FastifyServerFactory } from "fastify";
import type { Deps } from "../service/context.ts";
import { answerInferenceFast } from "./gateway-fast-path.ts";
import { answerVerifyFast } from "./verify-fast-path.ts";

/** Where the fast paths write their log lines: the app's logger, known once the app is built. */
export interface FastPathLog {
  log?: FastifyBaseLogger;
}

/**
 * The server factory. It applies the same server options Fastify applies to a server it makes
 * itself (header and request time-outs, keep-alive, socket time-out). The log level `debug` turns
 * the fast paths off, so that every request gets the framework's log lines.
 */
export function fastPathServer(deps: Deps, logs: FastPathLog): FastifyServerFactory {
  const enabled = deps.config.logLevel !== "debug";
  return (handler, opts) => {
    const o = opts as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number };
    const server: Server = createServer(o.http ?? {}, (req, res) => {
      if (!enabled || !(answerVerifyFast(deps, req, res, handler) || answerInferenceFast(deps, logs.log, req, res, handler))) handler(req, res);
    });
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket !== undefined && o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };
}
