import type { FastifyRequest } from "fastify";
import { permissionDenied, type ApiError } from "../domain/errors.ts";
import { tokensEqual } from "../domain/sign-in.ts";
import type { Deps, RequestMeta } from "../service/context.ts";
import { authenticateSession, type SessionPrincipal } from "../service/sessions.ts";
import { readCookie, sessionCookieName } from "./cookies.ts";

/**
 * Browser sessions at the HTTP edge: the `hearth_session` cookie resolves to a human principal, and
 * a change made with it (POST, PATCH, DELETE) must prove it comes from Hearth's own pages: the
 * `Origin` (or `Referer`) must be Hearth's origin when the browser sends one, and the
 * `x-csrf-token` header must equal the session's token (from `GET /auth/session`), which another
 * site cannot read. Requests with `Authorization: Bearer` never reach here: browsers do not attach
 * that header by themselves, so it needs no such proof.
 */
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const sessions = new WeakMap<FastifyRequest, SessionPrincipal>();

/** The session a request authenticated with, if it used one. */
export function sessionOfRequest(request: FastifyRequest): SessionPrincipal | undefined {
  return sessions.get(request);
}

/** Hearth's origin as this request reached it (HEARTH_PUBLIC_URL when set). */
export function requestOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

function claimedOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "") return origin;
  const referer = request.headers.referer;
  if (typeof referer !== "string" || referer === "") return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return "null";
  }
}

function csrfRefusal(request: FastifyRequest, publicUrl: string | undefined, csrfToken: string): ApiError | undefined {
  const origin = claimedOrigin(request);
  const own = new Set([requestOrigin(request, undefined), ...(publicUrl ? [publicUrl] : [])]);
  if (origin !== undefined && !own.has(origin)) {
    return permissionDenied(`cross-site request refused: origin ${JSON.stringify(origin)} is not Hearth's`);
  }
  const header = request.headers["x-csrf-token"];
  if (typeof header !== "string" || !tokensEqual(header, csrfToken)) {
    return permissionDenied("a change made with a session cookie needs the x-csrf-token header (its value is in GET /auth/session)");
  }
  return undefined;
}

/**
 * The principal of the request's session cookie, or undefined when it has none. An ended or
 * unknown session is UNAUTHENTICATED. Its CSRF proof is checked after authentication, by
 * `requireCsrfProof`, so that its refusal is audited like any other refusal of the caller.
 */
export async function sessionPrincipal(deps: Deps, request: FastifyRequest, meta: RequestMeta): Promise<SessionPrincipal | undefined> {
  const token = readCookie(request, sessionCookieName(request, deps.config.publicUrl));
  if (token === undefined || token === "") return undefined;
  const session = await authenticateSession(deps, token, meta);
  sessions.set(request, session);
  return session;
}

/**
 * Refuses a change (POST, PUT, PATCH, DELETE) made with a session cookie that does not prove it
 * comes from Hearth's own pages. Requests authenticated otherwise pass.
 * @throws PERMISSION_DENIED (403) naming the foreign origin or the missing `x-csrf-token`.
 */
export function requireCsrfProof(publicUrl: string | undefined, request: FastifyRequest): void {
  const session = sessions.get(request);
  if (!session || !MUTATING.has(request.method)) return;
  const refusal = csrfRefusal(request, publicUrl, session.csrfToken);
  if (refusal) throw refusal;
}
