import type { FastifyRequest } from "fastify";
import type { ApiError } from "../domain/errors.ts";
import { escapeHtml } from "../domain/html.ts";
import { consoleStylesheet } from "./console.ts";

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

/**
 * The page of a refused browser sign-in: the console's own stylesheet and sign-in card, no script
 * and no inline style (it is sent with the console's content security policy); the sentence escaped.
 */
export function signInErrorPage(error: ApiError): string {
  const css = consoleStylesheet();
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light"><link rel="icon" href="/favicon.svg" type="image/svg+xml">',
    css ? `<link rel="stylesheet" href="${escapeHtml(css)}">` : "",
    "<title>Sign-in failed · Hearth</title></head>",
    '<body><div class="signin-page"><main class="signin-card card" id="main">',
    '<div class="signin-brand"><img src="/favicon.svg" alt="" width="28" height="28"><span class="brand-name">Hearth</span></div>',
    `<h1>Sign-in failed</h1><p>${escapeHtml(error.message)}</p>`,
    '<p><a class="button button-primary" href="/signin">Back to sign-in</a></p></main></div></body></html>',
  ].join("");
}
