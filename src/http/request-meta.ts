import type { FastifyRequest } from "fastify";
import type { RequestMeta } from "../service/context.ts";

/** What the audit log records of the client behind a request: its User-Agent ("" when absent) and address. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers["user-agent"];
  return { userAgent: typeof ua === "string" ? ua : "", clientIp: request.ip };
}
