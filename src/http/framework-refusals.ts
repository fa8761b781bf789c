/**
 * @module Refusals Fastify makes before a route's handler runs (a body over the limit, a
 * Content-Length that does not match, an unsupported media type) on a route that takes a
 * credential: recorded as the router records every refusal of an authenticated request, one audit
 * entry in the caller's own account, after the same checks of the caller (`admitCaller`), whose
 * refusal wins over the body's.
 */
import type { FastifyRequest } from "fastify";
import { ApiError } from "../domain/errors.ts";
import { auditRefused } from "../service/audit.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { auditedResource } from "./request-meta.ts";
import { admitCaller } from "./route.ts";
import { routeConfig } from "./route-config.ts";

/**
 * Audits `refusal`, a framework refusal of `request`, when its route takes a credential: the
 * caller is checked first as the router checks it (`admitCaller`: a refusal there, audited there,
 * is answered instead), then the refusal is one entry in the caller's account. Without a
 * credential, the answer is the 401 every authenticated route gives.
 * @returns the error to answer with.
 */
export async function auditFrameworkRefusal(deps: Deps, request: FastifyRequest, refusal: ApiError): Promise<ApiError> {
  const config = routeConfig(request);
  if (!config.operationId || config.auth === false) return refusal;
  let ctx: Ctx;
  try {
    ctx = await admitCaller(deps, request, config.operationId, config.actions ?? []);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  await auditRefused(deps, ctx, { method: config.operationId, resource: auditedResource(request) }, refusal);
  return refusal;
}
