import type { FastifyRequest } from "fastify";
import type { ApiError } from "../domain/errors.ts";
import { escapeHtml } from "../domain/html.ts";

/** Where a browser navigates during sign-in (not the JSON endpoints under /auth such as /auth/session). */
const BROWSER_SIGN_IN = /^\/auth\/(oidc|link|cli)\//;

/**
 * A refused browser sign-in (the identity provider's callback, a one-time link, a start URL) seen by
 * a person rather than a program gets a small HTML page with the same status and sentence, and the
 * way back to the sign-in page. Programs (no `text/html` in Accept) keep getting the JSON error.
 */
export function wantsSignInPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return request.method === "GET" && BROWSER_SIGN_IN.test(request.url) && typeof accept === "string" && accept.includes("text/html");
}

export function signInErrorPage(error: ApiError): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>Sign-in failed · Hearth</title></head>",
    `<body><main><h1>Sign-in failed</h1><p>${escapeHtml(error.message)}</p>`,
    '<p><a href="/signin">Back to sign-in</a></p></main></body></html>',
  ].join("");
}
