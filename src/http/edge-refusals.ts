/**
 * @module Refusals made at the edge, before any route checks the request: no route at its path
 * (404), a method its path does not take (405), a URL the router cannot read (not percent-encoded
 * UTF-8, a path segment over 100 characters), a NUL character in the URL or a JSON body (400).
 * They are answered whatever the request's credential, and recorded as every refusal of an
 * authenticated request is (`auditRefused`): when the credential authenticates (an API key, a
 * session cookie, an ID token), one entry in the caller's own account, never in an account the
 * path names. A credential that does not authenticate writes nothing there and is counted as any
 * failed authentication is (`authenticateIfCredentialed`). The refusals Fastify makes of a route's
 * body, after routing, are recorded by framework-refusals.ts.
 */
import type { FastifyRequest } from "fastify";
import { ApiError } from "../domain/errors.ts";
import { auditRefused } from "../service/audit.ts";
import type { Deps } from "../service/context.ts";
import { authenticateIfCredentialed } from "./auth.ts";
import { auditedResource, requestMeta } from "./request-meta.ts";
import { routeConfig } from "./route-config.ts";

/** The audited operation of a request no route took (its resource is the path; its status message names the method). */
const UNROUTED = "UnroutedRequest";

/**
 * The mounts of the API (Hearth's and the OpenAI-compatible one): a request no route took is
 * audited only under them, so that what a browser asks of the console's origin on its own
 * (`/favicon.ico`, `/apple-touch-icon.png`) with a session cookie is not an entry each time.
 */
const API_MOUNTS = ["/v1/", "/inference/"];

/**
 * Audits `refusal`, made at the edge before any route checked `request`, in the account of the
 * request's principal when it has one, as the operation of the route the router matched
 * (`UnroutedRequest` when none did, under the API's mounts only). A route that takes no credential
 * (`auth: false`) records none of its refusals, nor this one.
 * @returns the error to answer with: `refusal`, or UNAVAILABLE (503) when its entry cannot be written.
 */
export async function auditEdgeRefusal(deps: Deps, request: FastifyRequest, refusal: ApiError): Promise<ApiError> {
  const config = routeConfig(request);
  if (config.auth === false) return refusal;
  if (config.operationId === undefined && !API_MOUNTS.some((mount) => request.url.startsWith(mount))) return refusal;
  const operationId = config.operationId ?? UNROUTED;
  const principal = await authenticateIfCredentialed(deps, request, operationId);
  if (!principal) return refusal;
  try {
    await auditRefused(deps, { principal, meta: requestMeta(request), checked: [] }, { method: operationId, resource: auditedResource(request) }, refusal);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  return refusal;
}
