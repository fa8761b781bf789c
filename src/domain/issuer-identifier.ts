/**
 * @module An OIDC issuer identifier as Hearth stores it, and the key that makes one
 * `(issuer, client id)` pair belong to one account.
 *
 * openid-client compares a provider's discovered `issuer` with the configured one after WHATWG URL
 * parsing, so `HTTP://Login.Example`, `https://login.example:443`, `https://login.example/./` and
 * `http://0x7f.1` reach the same provider as their plain spelling. Were those spellings stored as
 * typed, a second account could register the victim's issuer and client id under another spelling
 * and accept the victim's sign-ins (issue 13, item 4). So an issuer is accepted only in its
 * canonical spelling, and uniqueness compares a key that is wider still.
 */

/**
 * The canonical spelling of `issuerUrl` (the WHATWG URL serialisation, keeping the caller's choice of
 * a trailing slash on an empty path, since OIDC Core §2 compares `iss` byte for byte and providers
 * differ: `https://accounts.google.com`, `https://tenant.auth0.com/`), or undefined when the string is
 * not a URL at all.
 */
export function canonicalIssuer(issuerUrl: string): string | undefined {
  let href: string;
  try {
    href = new URL(issuerUrl).href;
  } catch {
    return undefined;
  }
  return !issuerUrl.endsWith("/") && href === `${issuerUrl}/` ? issuerUrl : href;
}

/**
 * The key under which an issuer is unique together with a client id: the canonical spelling without
 * trailing slashes, lower-cased. It is wider than the identity of an issuer (two paths differing only
 * in case collide), which only ever refuses a registration, never admits one.
 */
export function issuerKey(issuerUrl: string): string {
  return (canonicalIssuer(issuerUrl) ?? issuerUrl).replace(/\/+$/, "").toLowerCase();
}
