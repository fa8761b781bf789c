import type { FastifyRequest } from "fastify";
import { routeConfig } from "./route-config.ts";

/**
 * @module The exact text of a JSON body, kept for the routes that declare `rawBody` (a signature is
 * over the bytes sent, not over a re-serialisation of the parsed value). Held for the request's
 * lifetime only.
 */
const texts = new WeakMap<object, string>();

/** Called by the JSON body parser: keeps `text` when the request's route declared `rawBody`. */
export function keepRawJsonBody(request: FastifyRequest, text: string): void {
  if (routeConfig(request).rawBody) texts.set(request, text);
}

/** The JSON body's text as received, or undefined (no body, another content type, or a route without `rawBody`). */
export function rawJsonBody(request: FastifyRequest): string | undefined {
  return texts.get(request);
}
