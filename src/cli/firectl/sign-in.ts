import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import { createInterface } from "node:readline";
import { escapeHtml } from "../../domain/html.ts";
import { pkceChallenge, tokensEqual } from "../../domain/sign-in.ts";
import type { CliCredentials, SignInProvider } from "../../http/resources/sign-in.ts";
import type { HearthClient } from "./client.ts";
import { SIGN_IN_KEYS, writeAuthFile, type Settings } from "./config.ts";
import { apiFailure, usageError } from "./errors.ts";

/**
 * `firectl signin` (RFC 8252, native apps): a loopback listener on 127.0.0.1 receives the outcome
 * of a browser sign-in through the account's identity provider, which Hearth brokers with its own
 * client credentials. The one-time code that arrives is redeemed with this run's PKCE verifier for
 * the provider's ID token, stored in the profile file (0600) and sent as the bearer credential;
 * before it expires it is renewed through Hearth with the refresh token, when there is one.
 */

/** What Hearth answers to a redeemed code or a refresh: the server's own type, so the two cannot drift. */
export type SignedIn = CliCredentials;

/** Renew a minute early, so a token does not expire between the check and the server. */
const RENEW_BEFORE_S = 60;
/** As long as Hearth keeps the browser's sign-in state. */
const WAIT_MS = 10 * 60 * 1000;

/** The `exp` (seconds) of a JWT, read without verifying it: only to decide when to renew. */
function tokenExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** When an ID token expires, as a timestamp (for whoami and the expiry message). */
export function idTokenExpiry(token: string): string {
  const exp = tokenExpiry(token);
  return exp === undefined ? "unknown" : new Date(exp * 1000).toISOString();
}

/** Stores a sign-in in the profile file: it replaces an API key stored there, and a refresh token the provider no longer sends. */
export function saveSignIn(file: string, signedIn: SignedIn, apiBase?: string): void {
  writeAuthFile(
    file,
    {
      id_token: signedIn.idToken,
      account_id: signedIn.accountId,
      identity_provider: signedIn.identityProviderId,
      ...(signedIn.refreshToken ? { refresh_token: signedIn.refreshToken } : {}),
      ...(apiBase ? { api_base: apiBase } : {}),
    },
    signedIn.refreshToken ? ["api_key"] : ["api_key", "refresh_token"],
  );
}

/** Removes a stored sign-in; true when there was one. */
export function forgetSignIn(settings: Settings): boolean {
  if (!settings.signIn) return false;
  writeAuthFile(settings.file, {}, SIGN_IN_KEYS);
  return true;
}

/** The stored ID token, renewed first (and the file updated) when it expires within a minute. */
export async function currentIdToken(settings: Settings, client: HearthClient): Promise<string> {
  const stored = settings.signIn!;
  const exp = tokenExpiry(stored.idToken);
  if (exp === undefined || exp - RENEW_BEFORE_S > Date.now() / 1000) return stored.idToken;
  if (!stored.refreshToken || !stored.identityProvider || !stored.accountId) {
    throw apiFailure(`your sign-in expired at ${idTokenExpiry(stored.idToken)}; run 'firectl signin' again`);
  }
  const renewed = await client.send<SignedIn>({
    method: "POST",
    path: "/auth/cli/refresh",
    body: { accountId: stored.accountId, identityProviderId: stored.identityProvider, refreshToken: stored.refreshToken },
  });
  saveSignIn(settings.file, renewed);
  return renewed.idToken;
}

function chooseProvider(accountId: string, providers: SignInProvider[], wanted: string | undefined): SignInProvider {
  if (wanted !== undefined) {
    const found = providers.find((p) => p.id === wanted);
    if (!found)
      throw usageError(
        `account "${accountId}" has no identity provider "${wanted}"${providers.length ? `; it has: ${providers.map((p) => p.id).join(", ")}` : ""}`,
      );
    return found;
  }
  if (providers.length === 1) return providers[0]!;
  if (providers.length === 0) {
    throw usageError(`account "${accountId}" has no identity provider to sign in with (or does not exist); use an API key: 'firectl set-api-key KEY'`);
  }
  throw usageError(`account "${accountId}" has several identity providers (${providers.map((p) => p.id).join(", ")}); choose one with --identity-provider`);
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><body style="font-family:sans-serif;margin:3em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer", connection: "close" });
  res.end(body);
}

/** Listens on 127.0.0.1 for the browser's return carrying `state`; other requests are turned away and the wait goes on. */
async function loopbackListener(port: number, state: string) {
  const server = createServer();
  const returned = new Promise<URLSearchParams>((resolve) => {
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const params = url.searchParams;
      if (req.method !== "GET" || url.pathname !== "/callback" || !tokensEqual(params.get("state") ?? "", state)) {
        page(res, 400, "Not a sign-in firectl is waiting for", "Start again with 'firectl signin'.");
        return;
      }
      const error = params.get("error");
      if (error) page(res, 200, "Sign-in refused", params.get("error_description") ?? error);
      else page(res, 200, "Signed in", "firectl has the sign-in. You can close this tab and return to the terminal.");
      resolve(params);
    });
  });
  server.listen(port, "127.0.0.1");
  try {
    await once(server, "listening");
  } catch (error) {
    throw usageError(
      `cannot listen on 127.0.0.1:${port} for the browser's return (${(error as NodeJS.ErrnoException).code ?? "error"}); choose another --port`,
    );
  }
  const close = () => {
    server.close();
    server.closeIdleConnections();
  };
  return { redirectUri: `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`, returned, close };
}

/**
 * For a browser on another machine (over SSH): its redirect to this machine's 127.0.0.1 fails to
 * load, but the address it tried carries the outcome; the person pastes it on stdin.
 */
function pastedReturn(redirectUri: string, state: string, note: (text: string) => void) {
  const lines = createInterface({ input: process.stdin, terminal: false });
  const returned = new Promise<URLSearchParams>((resolve) => {
    lines.on("line", (line) => {
      const text = line.trim();
      if (text === "") return;
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        url = undefined;
      }
      if (url && `${url.origin}${url.pathname}` === redirectUri && tokensEqual(url.searchParams.get("state") ?? "", state)) resolve(url.searchParams);
      else note(`that is not the address of this sign-in's return (${redirectUri}?...); paste the whole address from the browser`);
    });
  });
  return {
    returned,
    stop: () => {
      lines.close();
      process.stdin.destroy();
    },
  };
}

/** Opens a URL in the user's browser ($BROWSER, else the platform's opener); failure is not an error, the URL is printed anyway. */
function openBrowser(url: string): void {
  const [command, ...args] = process.env.BROWSER
    ? [process.env.BROWSER, url]
    : process.platform === "darwin"
      ? ["open", url]
      : process.platform === "win32"
        ? ["rundll32", "url.dll,FileProtocolHandler", url]
        : ["xdg-open", url];
  try {
    const child = spawn(command!, args, { detached: true, stdio: "ignore" });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // The printed URL is the fallback.
  }
}

export interface SignInOptions {
  identityProvider?: string;
  browser: boolean;
  port: number;
  /** Where to tell the person what to do (stderr). */
  note: (text: string) => void;
}

/** The whole dance; returns what Hearth issued (not yet saved). */
export async function signIn(client: HearthClient, accountId: string, options: SignInOptions): Promise<SignedIn> {
  const listed = await client.send<{ identityProviders: SignInProvider[] }>({ method: "GET", path: "/auth/providers", query: { account: accountId } });
  const provider = chooseProvider(accountId, listed.identityProviders, options.identityProvider);
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(24).toString("base64url");
  const listener = await loopbackListener(options.port, state);
  let pasted: ReturnType<typeof pastedReturn> | undefined;
  try {
    const start = new URL(`${client.base}/auth/cli/${encodeURIComponent(accountId)}/${encodeURIComponent(provider.id)}/start`);
    start.search = new URLSearchParams({
      redirect_uri: listener.redirectUri,
      state,
      code_challenge: pkceChallenge(verifier),
      code_challenge_method: "S256",
    }).toString();
    options.note(`Sign in to account "${accountId}" with ${provider.displayName} in your browser. If it does not open, visit:\n  ${start.href}`);
    if (options.browser) openBrowser(start.href);
    else {
      options.note(`If that browser runs on another machine, its last page (${listener.redirectUri}?...) will not load: paste its address here.`);
      pasted = pastedReturn(listener.redirectUri, state, options.note);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(apiFailure(`no sign-in came back within ${WAIT_MS / 60000} minutes; run 'firectl signin' again`)), WAIT_MS);
    });
    const params = await Promise.race([listener.returned, timedOut, ...(pasted ? [pasted.returned] : [])]).finally(() => clearTimeout(timer));
    const error = params.get("error");
    if (error) throw apiFailure(`the sign-in was refused: ${params.get("error_description") ?? error}`);
    const code = params.get("code");
    if (!code) throw apiFailure("the browser came back without a sign-in code; run 'firectl signin' again");
    return await client.send<SignedIn>({ method: "POST", path: "/auth/cli/token", body: { code, codeVerifier: verifier } });
  } finally {
    listener.close();
    pasted?.stop();
  }
}
