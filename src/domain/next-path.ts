/**
 * @module The one rule for where a browser may be sent after sign-in (`next`), shared by the
 * server and the console, so it has no Node-only imports.
 */

/** An origin that is never real: `next` is resolved against it to see where a browser would land. */
const HEARTH = "http://hearth.invalid";

/** What `next` may be at most, in characters; anything longer falls back to `/`. */
const MAX_NEXT_LENGTH = 1024;

/** A path a browser (or a proxy that decodes it) would read as `//host` or `/\host`: another site. */
const NETWORK_PATH = /^[/\\][/\\]/;

/**
 * The path to go to after sign-in: `next` resolved against Hearth's origin (WHATWG URL rules, as
 * a browser resolves a `Location` header) and accepted only when it is an absolute path that stays
 * on that origin, and whose normalised path (also once percent-decoded) does not start with `//`
 * or `/\`: `/.//evil.example`, `/%2e//evil.example` and `/%5Cevil.example` would otherwise send
 * the browser to another host. Control characters (tabs and newlines, which URL parsing silently
 * drops), schemes, anything over 1024 characters or not starting with `/` fall back to `/`.
 *
 * @param next the raw `next` query parameter, if any
 * @returns the normalised path, query and fragment, or `/`
 */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || next.length > MAX_NEXT_LENGTH || !next.startsWith("/") || NETWORK_PATH.test(next)) return "/";
  if (/[\u0000-\u001f\u007f]/.test(next)) return "/";
  let resolved: URL;
  try {
    resolved = new URL(next, HEARTH);
  } catch {
    return "/";
  }
  if (resolved.origin !== HEARTH || NETWORK_PATH.test(resolved.pathname)) return "/";
  let decoded: string;
  try {
    decoded = decodeURIComponent(resolved.pathname);
  } catch {
    return "/";
  }
  if (NETWORK_PATH.test(decoded) || /[\u0000-\u001f\u007f]/.test(decoded)) return "/";
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
