import type { FastifyRequest } from "fastify";
import type { Action } from "../domain/actions.ts";

/**
 * How a route writes its errors, as its declaration says (`RouteSpec.errorFormat`), whatever its
 * path: `google-rpc` is `{"error": {"code", "status", "message", "details"}}` (AIP-193) with the
 * request id in a google.rpc.RequestInfo; `openai` is OpenAI's `{"error": {"message", "type",
 * "code", "param"}}` (see `openAiError`), for the OpenAI-compatible routes.
 */
export type ErrorFormat = "google-rpc" | "openai";

/**
 * What the router puts in a route's Fastify config (`Router.add`), for the hooks and handlers that
 * run around the route: the body parser, the error and not-found handlers, the edge checks.
 */
export interface RouteConfig {
  errorFormat: ErrorFormat;
  /** The route keeps its JSON body's exact text (raw-body.ts). */
  rawBody: boolean;
  /** The route takes a NUL character in its body (hardening.ts). */
  nulInBody: boolean;
  operationId: string;
  /** The route takes a credential. */
  auth: boolean;
  /** The actions of which its caller must hold one (`RouteSpec.actions`). */
  actions: readonly Action[];
}

/** The config of the route `request` reached; every field absent when it reached none (a 404, a URL refused before routing). */
export const routeConfig = (request: FastifyRequest): Partial<RouteConfig> => (request.routeOptions.config as Partial<RouteConfig> | undefined) ?? {};
