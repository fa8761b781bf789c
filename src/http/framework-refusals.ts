/**
 * @module Refusals Fastify makes before a route's handler runs (a body over the limit, a
 * Content-Length that does not match, an unsupported media type) on a route that takes a
 * credential: recorded as the router records every refusal of an authenticated request, one audit
 * entry in the caller's own account, and with the same order of checks (the credential's refusal
 * wins over the body's).
 */
import type { FastifyRequest } from "fastify";
import { ApiError } from "../domain/errors.ts";
import { auditRefused } from "../service/audit.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { requireSameAccount } from "../service/permissions.ts";
import { authenticateRequest } from "./auth.ts";
import { auditedResource, requestMeta } from "./request-meta.ts";

/** What the router puts in a route's Fastify config (see `Router.add`). */
interface RouteConfig {
  errorFormat?: string;
  operationId?: string;
  auth?: boolean;
}

/**
 * Audits `refusal`, a framework refusal of `request`, when its route takes a credential: the
 * credential is checked first (a bad one is refused and audited as any failed authentication, and
 * that refusal is answered instead), then the path's account, then the refusal is one entry in the
 * caller's account. Without a credential, the answer is the 401 every authenticated route gives.
 * @returns the error to answer with.
 */
export async function auditFrameworkRefusal(deps: Deps, request: FastifyRequest, refusal: ApiError): Promise<ApiError> {
  const config = request.routeOptions.config as RouteConfig | undefined;
  if (!config?.operationId || config.auth === false) return refusal;
  let ctx: Ctx;
  try {
    ctx = { principal: await authenticateRequest(deps, request, config.operationId), meta: requestMeta(request), checked: [] };
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  const op = { method: config.operationId, resource: auditedResource(request) };
  const accountId = (request.params as { accountId?: string } | undefined)?.accountId;
  let answer = refusal;
  try {
    if (accountId !== undefined) requireSameAccount(ctx.principal, accountId);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    answer = error;
  }
  await auditRefused(deps, ctx, op, answer);
  return answer;
}
