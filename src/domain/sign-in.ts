/**
 * @module Pure pieces of human sign-in: opaque tokens and their digests, the service-account refusal, the
 * shape tests that route a bearer token, same-origin `next` paths and tenant domains.
 */
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { keyPrefixOf } from "./api-key-format.ts";
import { permissionDenied, type ApiError } from "./errors.ts";

/** The one sentence every refused service-account sign-in carries (docs/sign-in.md). */
export const SERVICE_ACCOUNT_SIGN_IN = "service accounts cannot sign in; use an API key";

export const serviceAccountCannotSignIn = (): ApiError => permissionDenied(SERVICE_ACCOUNT_SIGN_IN);

/** One-time sign-in links expire after 15 minutes. */
export const SIGNIN_LINK_TTL_MS = 15 * 60 * 1000;

export const SESSION_COOKIE = "hearth_session";

/**
 * A new opaque secret (session id, link token, CSRF token): 256 random bits, base64url. Like API
 * keys these are high-entropy, so a plain SHA-256 digest is what the store keeps.
 */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function digestToken(token: string): string {
  return hash("sha256", token);
}

/** Constant-time equality of two strings (lengths may differ; that alone is not secret). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** True when `token` could be one of ours; anything else is refused before a lookup. */
export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A JWS in compact form: three base64url segments. */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/**
 * Which verifier a bearer token goes to: Hearth API keys start with a key prefix (any of the
 * syntax HEARTH_KEY_PREFIX allows, not only the configured one: a key keeps working when the
 * setting changes) and are never JWTs; everything else is taken for an OIDC ID token.
 */
export function isApiKeyShaped(token: string): boolean {
  return keyPrefixOf(token) !== undefined && !looksLikeJwt(token);
}

export { safeNextPath } from "./next-path.ts";

function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1).toLowerCase();
}

/**
 * Whether JIT provisioning may create a user with `email`: its domain must be one of the tenant
 * domains, or, when none are configured, the domain of the account's own email.
 */
export function domainAllowed(email: string, tenantDomains: readonly string[], accountEmail: string): boolean {
  const domain = emailDomain(email);
  const allowed = tenantDomains.length > 0 ? tenantDomains : [emailDomain(accountEmail)];
  return allowed.some((d) => d.toLowerCase() === domain);
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Loopback hosts may speak plain HTTP (development and tests); every other issuer must use HTTPS. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * firectl's redirect URI (RFC 8252 §7.3): plain http to a loopback address on any port, no
 * credentials or fragment. Anything else would let a sign-in's code travel off the machine.
 */
export function isLoopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return url.protocol === "http:" && isLoopbackHost(url.hostname) && url.port !== "" && url.username === "" && url.password === "" && url.hash === "";
}

/** RFC 7636: a verifier is 43–128 unreserved characters; its S256 challenge is 43 base64url characters. */
export const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
export const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function pkceChallenge(verifier: string): string {
  return hash("sha256", verifier, "base64url");
}
