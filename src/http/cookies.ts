/**
 * @module Cookies, read and written with the `cookie` package (RFC 6265 parsing and `Set-Cookie`
 * serialisation, which refuses names, values and paths a header cannot carry): a well-kept
 * library of the Express project rather than a parser of our own.
 */
import { parseCookie, stringifySetCookie } from "cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SESSION_COOKIE } from "../domain/sign-in.ts";

/** Reads one cookie from the request (the first of a name wins; a quoted value is unquoted). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== "string") return undefined;
  return parseCookie(header)[name];
}

/** True when the browser reached Hearth over https (directly, or as HEARTH_PUBLIC_URL says). */
export function overHttps(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return request.protocol === "https" || (publicUrl?.startsWith("https:") ?? false);
}

/**
 * A cookie's name as this request sets and reads it: over https `__Host-<name>`, which a browser
 * accepts only with `Secure`, `Path=/` and no `Domain`, from this host itself (RFC 6265bis, cookie
 * prefixes), so that a sibling subdomain cannot plant one of its choosing in a browser (login
 * CSRF); `name` over plain http, where that prefix cannot be set.
 */
export function hostCookieName(request: FastifyRequest, publicUrl: string | undefined, name: string): string {
  return overHttps(request, publicUrl) ? `__Host-${name}` : name;
}

/** The session cookie's name: `__Host-hearth_session` over https, `hearth_session` over http (`hostCookieName`). */
export function sessionCookieName(request: FastifyRequest, publicUrl: string | undefined): string {
  return hostCookieName(request, publicUrl, SESSION_COOKIE);
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  secure: boolean;
}

/** Appends a `Set-Cookie`: always HttpOnly and SameSite=Lax (sent on top-level navigations only). */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const header = stringifySetCookie(name, value, {
    path: options.path,
    maxAge: options.maxAge,
    ...(options.maxAge === 0 ? { expires: new Date(0) } : {}),
    httpOnly: true,
    sameSite: "lax",
    secure: options.secure,
  });
  // Fastify appends to an existing Set-Cookie rather than replacing it.
  void reply.header("set-cookie", header);
}
