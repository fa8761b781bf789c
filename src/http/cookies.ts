import type { FastifyReply, FastifyRequest } from "fastify";

/** Reads one cookie from the request (RFC 6265 `name=value` pairs; the first of a name wins). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== "string") return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** True when the browser reached Hearth over https (directly, or as HEARTH_PUBLIC_URL says). */
export function overHttps(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return request.protocol === "https" || (publicUrl?.startsWith("https:") ?? false);
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  secure: boolean;
}

/** Appends a `Set-Cookie`: always HttpOnly and SameSite=Lax (sent on top-level navigations only). */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, "HttpOnly", "SameSite=Lax"];
  if (options.maxAge === 0) parts.push("Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  if (options.secure) parts.push("Secure");
  // Fastify appends to an existing Set-Cookie rather than replacing it.
  void reply.header("set-cookie", parts.join("; "));
}
