import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ApiError, invalidArgument, permissionDenied } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import type { Principal } from "../domain/principal.ts";
import { open, seal } from "../domain/secret-box.ts";
import { newToken, safeNextPath, tokensEqual } from "../domain/sign-in.ts";
import type { Deps } from "../service/context.ts";
import { auditRefused } from "../service/audit.ts";
import { serverKey } from "../service/server-key.ts";
import { authenticateSession, endSession, type NewSession } from "../service/sessions.ts";
import { accountSwitchPage, type SignedInAs } from "./account-switch-page.ts";
import { requestMeta } from "./request-meta.ts";
import { CONSOLE_CSP } from "./console.ts";
import { hostCookieName, overHttps, readCookie, sessionCookieName, setCookie } from "./cookies.ts";
import { requestOrigin } from "./session-auth.ts";

/**
 * @module Finishing a browser sign-in (identity provider or one-time link) without silently
 * replacing a session as someone else: login CSRF would otherwise put a signed-in person into an
 * attacker's account, or have them work as a colleague who sent them a link. The browser is asked instead; the new sign-in waits, sealed in a cookie
 * only POST /auth/switch reads, for at most 10 minutes.
 */
const SWITCH_COOKIE = "hearth_switch";
/**
 * The pending switch's cookie: `__Host-hearth_switch` over https (so `Path=/`), as the session and
 * sign-in cookies, so that a sibling subdomain cannot plant or clobber a pending switch.
 */
const switchCookieName = (deps: Deps, request: FastifyRequest): string => hostCookieName(request, deps.config.publicUrl, SWITCH_COOKIE);
const SWITCH_PATH = "/auth/switch";
const SWITCH_CONTEXT = "account-switch";
const SWITCH_TTL_MS = 10 * 60 * 1000;

interface PendingSwitch {
  /** The new session's cookie value. */
  session: string;
  maxAgeSeconds: number;
  /** What the page's form must send back. */
  token: string;
  next: string;
  expires: number;
}

function secure(deps: Deps, request: FastifyRequest): boolean {
  return overHttps(request, deps.config.publicUrl);
}

/** This browser's current session, when it has one that is still good: its token and principal. */
async function currentSession(deps: Deps, request: FastifyRequest): Promise<{ token: string; principal: Principal } | undefined> {
  const token = readCookie(request, sessionCookieName(request, deps.config.publicUrl));
  if (!token) return undefined;
  try {
    return { token, principal: (await authenticateSession(deps, token, requestMeta(request))).principal };
  } catch {
    // An ended or refused session is nothing to keep.
    return undefined;
  }
}

const signedInAs = (p: Principal): SignedInAs => ({ accountId: p.accountId, email: p.email });

/** Sets the session cookie and sends the browser on; the URL that carried a secret is not passed on as Referer. */
function enter(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: { token: string; maxAgeSeconds: number },
  next: string,
  status: 302 | 303,
): FastifyReply {
  setCookie(reply, sessionCookieName(request, deps.config.publicUrl), session.token, {
    path: "/",
    maxAge: session.maxAgeSeconds,
    secure: secure(deps, request),
  });
  void reply.headers({ "cache-control": "no-store", "referrer-policy": "no-referrer" });
  return reply.redirect(next, status);
}

/**
 * The end of a browser sign-in that verified: the new session takes effect, unless this browser is
 * signed in as someone else (another account, or another principal of the same one: a link sent by a
 * colleague would otherwise have you work as them), in which case it gets a page naming both with
 * "Switch" and "Stay" (and the new session waits for the answer). A browser signing in again as the
 * same principal has its old session ended: one browser, one session.
 *
 * @param next an already checked same-origin path (safeNextPath)
 */
export async function signedIn(deps: Deps, request: FastifyRequest, reply: FastifyReply, session: NewSession, next: string): Promise<FastifyReply> {
  const current = await currentSession(deps, request);
  if (!current) return enter(deps, request, reply, session, next, 302);
  const incoming = (await authenticateSession(deps, session.token, requestMeta(request))).principal;
  if (incoming.accountId === current.principal.accountId && incoming.userId === current.principal.userId) {
    await endSession(deps, current.token, requestMeta(request));
    return enter(deps, request, reply, session, next, 302);
  }
  const pending: PendingSwitch = { session: session.token, maxAgeSeconds: session.maxAgeSeconds, token: newToken(), next, expires: Date.now() + SWITCH_TTL_MS };
  setCookie(reply, switchCookieName(deps, request), seal(serverKey(deps.config), JSON.stringify(pending), SWITCH_CONTEXT), {
    path: "/",
    maxAge: SWITCH_TTL_MS / 1000,
    secure: secure(deps, request),
  });
  return reply
    .headers({ "content-security-policy": CONSOLE_CSP, "cache-control": "no-store", "referrer-policy": "no-referrer" })
    .type("text/html; charset=utf-8")
    .send(accountSwitchPage(signedInAs(current.principal), signedInAs(incoming), pending.token));
}

/** The page's form holds these two fields, each once: another field or a repeated one is refused, never dropped or decided by the last. */
const switchForm = z.strictObject({
  token: z.string().max(64),
  choice: z.enum(["switch", "stay"], { message: 'must be "switch" or "stay"' }),
});

/**
 * POST /auth/switch, the answer of the account-switch page (an HTML form, so its own
 * `application/x-www-form-urlencoded` parser, registered for this route only). The sealed pending
 * sign-in (cookie, SameSite=Lax: not sent on another site's POST), the form's token and, when the
 * browser sends one, the Origin must all be this browser's and Hearth's. "switch" ends the old
 * session and puts the new one in effect; "stay" ends the new one and keeps the old.
 */
export function accountSwitchRoutes(app: FastifyInstance, deps: Deps): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_request, body, done) => {
      // A name sent twice keeps both values (an array), for the form's schema to refuse.
      const fields = new Map<string, string | string[]>();
      for (const [name, value] of new URLSearchParams(body as string)) {
        const had = fields.get(name);
        fields.set(name, had === undefined ? value : [had, value].flat());
      }
      done(null, Object.fromEntries(fields));
    });
    scope.post(SWITCH_PATH, async (request, reply) => {
      try {
        return await answerSwitch(deps, request, reply);
      } catch (refusal) {
        // Outside the router, so recorded here: in the account of the session this browser still has.
        const current = refusal instanceof ApiError ? await currentSession(deps, request) : undefined;
        if (current) await auditRefused(deps, { principal: current.principal, meta: requestMeta(request), checked: [] }, SWITCH_OPERATION, refusal as ApiError);
        throw refusal;
      }
    });
  });
}

/** How a refused answer of the switch page is audited. */
const SWITCH_OPERATION = { method: "SwitchAccount", resource: "auth/switch" };

/** The switch page's answer (see `accountSwitchRoutes`). @throws INVALID_ARGUMENT, PERMISSION_DENIED */
async function answerSwitch(deps: Deps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const given = (request.body ?? {}) as Record<string, unknown>;
  const repeated = Object.keys(given).find((name) => Array.isArray(given[name]));
  if (repeated !== undefined) throw invalidArgument(`invalid form: field ${quoted(repeated.slice(0, 100))} is given more than once`);
  const parsed = switchForm.safeParse(given);
  if (!parsed.success) throw invalidArgument(`invalid form: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ")}`);
  const origin = request.headers.origin;
  const own = new Set([requestOrigin(request, undefined), ...(deps.config.publicUrl ? [deps.config.publicUrl] : [])]);
  if (typeof origin === "string" && origin !== "" && !own.has(origin))
    throw permissionDenied(`cross-site request refused: origin ${JSON.stringify(origin)} is not Hearth's`);
  const cookie = readCookie(request, switchCookieName(deps, request));
  const text = cookie ? open(serverKey(deps.config), cookie, SWITCH_CONTEXT) : undefined;
  const pending = text === undefined ? undefined : (JSON.parse(text) as PendingSwitch);
  // Used up whatever the outcome.
  setCookie(reply, switchCookieName(deps, request), "", { path: "/", maxAge: 0, secure: secure(deps, request) });
  if (!pending || pending.expires <= Date.now())
    throw invalidArgument("no account switch is waiting in this browser (it was answered already or took longer than 10 minutes); sign in again");
  if (!tokensEqual(parsed.data.token, pending.token))
    throw permissionDenied("the account switch form does not belong to this browser's sign-in; sign in again");
  const meta = requestMeta(request);
  void reply.header("cache-control", "no-store");
  if (parsed.data.choice === "stay") {
    await endSession(deps, pending.session, meta);
    return reply.redirect("/", 303);
  }
  const old = readCookie(request, sessionCookieName(request, deps.config.publicUrl));
  if (old) await endSession(deps, old, meta);
  return enter(deps, request, reply, { token: pending.session, maxAgeSeconds: pending.maxAgeSeconds }, safeNextPath(pending.next), 303);
}
