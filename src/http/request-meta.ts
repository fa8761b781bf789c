import type { FastifyRequest } from "fastify";
import type { RequestMeta } from "../service/context.ts";

/** What the audit log records of the client behind a request: its User-Agent ("" when absent) and address. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers["user-agent"];
  return { userAgent: typeof ua === "string" ? ua : "", clientIp: request.ip };
}

/**
 * The resource a refused request is audited on when no service named one: its path without the
 * query string and without the API's prefix (`/v1/`, `/inference/v1/`), e.g. `accounts/a/users/u`.
 */
export function auditedResource(request: FastifyRequest): string {
  return request.url.split("?")[0]!.replace(/^\/(v1|inference\/v1)\//, "");
}
