import type { FastifyRequest } from "fastify";
import { ApiError, permissionDenied } from "../domain/errors.ts";
import { SESSION_COOKIE, tokensEqual } from "../domain/sign-in.ts";
import { writeAudit } from "../service/audit.ts";
import type { Deps, RequestMeta } from "../service/context.ts";
import { authenticateSession, type SessionPrincipal } from "../service/sessions.ts";
import { markAudited } from "../service/sign-in.ts";
import { readCookie } from "./cookies.ts";

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
 * unknown session is UNAUTHENTICATED; a change without CSRF proof is refused and audited.
 */
export async function sessionPrincipal(deps: Deps, request: FastifyRequest, meta: RequestMeta, operationId: string): Promise<SessionPrincipal | undefined> {
  const token = readCookie(request, SESSION_COOKIE);
  if (token === undefined || token === "") return undefined;
  const session = await authenticateSession(deps, token, meta);
  if (MUTATING.has(request.method)) {
    const refusal = csrfRefusal(request, deps.config.publicUrl, session.csrfToken);
    if (refusal) {
      const p = session.principal;
      const resource = request.url.split("?")[0]!.replace(/^\/v1\//, "");
      await writeAudit(
        deps.store.db,
        { accountId: p.accountId, email: p.email, apiKeyId: "", meta },
        { method: operationId, resource, isAdminAction: false },
        refusal,
      );
      throw markAudited(refusal);
    }
  }
  sessions.set(request, session);
  return session;
}
