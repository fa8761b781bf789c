import { escapeHtml } from "../domain/html.ts";

/** A signed-in person as the page names them. */
export interface SignedInAs {
  accountId: string;
  email: string;
}

/**
 * The question a browser already signed in gets when a sign-in as someone else (another account, or
 * another principal of the same account) finishes: both named, and two buttons of one form that POSTs to /auth/switch with the
 * form's one-time token. No script and no style, so the console's content security policy holds;
 * every interpolated value is escaped.
 *
 * @param current the session this browser already has
 * @param incoming the sign-in that just finished, not yet in effect
 * @param token the CSRF token the form must send back (RFC 6749 §10.12's "state" idea, for a POST)
 */
export function accountSwitchPage(current: SignedInAs, incoming: SignedInAs, token: string): string {
  // Two principals of one account are told apart by their emails.
  const label = (who: SignedInAs) => (current.accountId === incoming.accountId ? `${who.accountId} as ${who.email}` : who.accountId);
  const from = `<strong>${escapeHtml(current.accountId)}</strong> as <strong>${escapeHtml(current.email)}</strong>`;
  const to = `<strong>${escapeHtml(incoming.accountId)}</strong> as <strong>${escapeHtml(incoming.email)}</strong>`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>Switch account? · Hearth</title></head>",
    "<body><main><h1>You are already signed in</h1>",
    `<p>This browser is signed in to account ${from}.</p>`,
    `<p>The sign-in that just finished is for account ${to}.</p>`,
    "<p>If you did not mean to sign in to that account, stay: someone may be trying to have you work in their account.</p>",
    '<form method="post" action="/auth/switch">',
    `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
    `<button type="submit" name="choice" value="switch">Switch to ${escapeHtml(label(incoming))}</button> `,
    `<button type="submit" name="choice" value="stay">Stay in ${escapeHtml(label(current))}</button>`,
    "</form></main></body></html>",
  ].join("");
}
