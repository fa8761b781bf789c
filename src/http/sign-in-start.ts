import type { FastifyRequest } from "fastify";
import { permissionDenied, type ApiError } from "../domain/errors.ts";
import { requestOrigin } from "./session-auth.ts";

/**
 * @module Login CSRF: a browser sign-in through an identity provider may only begin on Hearth's own
 * sign-in page. Otherwise any site (or a link in a mail) could send a signed-in person to
 * `/auth/oidc/<their account>/<their provider>/start` at a provider that approves silently, and
 * the person would find themselves working in the attacker's account.
 */

/**
 * Whether a request to begin a browser sign-in comes from one of Hearth's own pages. Fetch Metadata
 * (W3C): `Sec-Fetch-Site: same-origin` is what a browser sends when a person clicks a button on
 * Hearth's sign-in page, and no other site can make it send that. A browser too old to send the
 * header at all is judged by its `Referer`, which another site can suppress but not forge: its
 * origin must be Hearth's. Anything else (`cross-site`, `same-site`, `none` for a link opened from
 * a mail or typed in, or neither header) is refused.
 *
 * @returns undefined when the start may go ahead, else the PERMISSION_DENIED (403) to answer with
 */
export function crossSiteStart(request: FastifyRequest, publicUrl: string | undefined): ApiError | undefined {
  const own = new Set([requestOrigin(request, undefined), ...(publicUrl ? [publicUrl] : [])]);
  const site = request.headers["sec-fetch-site"];
  if (site === "same-origin") return undefined;
  if (site === undefined && fromOrigin(request.headers.referer, own)) return undefined;
  const signInPage = `${requestOrigin(request, publicUrl)}/signin`;
  return permissionDenied(`a sign-in must begin on Hearth's sign-in page (${signInPage}); this one was opened from elsewhere, so nothing was changed`);
}

function fromOrigin(referer: string | undefined, own: ReadonlySet<string>): boolean {
  if (typeof referer !== "string" || referer === "") return false;
  try {
    return own.has(new URL(referer).origin);
  } catch {
    return false;
  }
}
