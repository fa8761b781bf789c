import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ACTION_NAMES } from "../../domain/actions.ts";
import { ApiError, unauthenticated } from "../../domain/errors.ts";
import { safeNextPath, SERVICE_ACCOUNT_SIGN_IN } from "../../domain/sign-in.ts";
import { auditRefused } from "../../service/audit.ts";
import type { Deps } from "../../service/context.ts";
import { finishCliLogin } from "../../service/cli-sign-in.ts";
import { holds } from "../../service/permissions.ts";
import { beginOidcLogin, claimLoginState, finishOidcLogin, LOGIN_COOKIE, readLoginState, type CliRequest, type LoginState } from "../../service/oidc-login.ts";
import { endSession, revokeSessions, type NewSession } from "../../service/sessions.ts";
import { redeemSigninLink } from "../../service/signin-links.ts";
import { hostCookieName, readCookie, overHttps, sessionCookieName, setCookie } from "../cookies.ts";
import { signedIn } from "../account-switch.ts";
import { requestMeta } from "../request-meta.ts";
import { failedAuthentication } from "../auth-failures.ts";
import type { Router } from "../route.ts";
import { accountParams, anyQuery, id, userParams } from "../schemas.ts";
import { requireCsrfProof, requestOrigin, sessionOfRequest, sessionPrincipal } from "../session-auth.ts";
import { crossSiteStart } from "../sign-in-start.ts";
import { empty } from "../resources/common.ts";
import { revokedSessions } from "../resources/user.ts";
import { accountSwitchPage, session as sessionSchema } from "../resources/sign-in.ts";
import { identityProviderName, userName } from "../../domain/resource-names.ts";

function secure(deps: Deps, request: FastifyRequest): boolean {
  return overHttps(request, deps.config.publicUrl);
}

/**
 * The login cookie (a sign-in's sealed state, until its callback) is `__Host-`-prefixed over https
 * like the session's, hence `Path=/`: a sibling subdomain could otherwise plant its attacker's
 * started sign-in and send the browser to the callback with the attacker's code (login CSRF).
 */
const LOGIN_COOKIE_PATH = "/";
const loginCookieName = (deps: Deps, request: FastifyRequest): string => hostCookieName(request, deps.config.publicUrl, LOGIN_COOKIE);

/** The path of a sign-in's start: an account and one of its identity providers. */
export const providerParams = accountParams.extend({ identityProviderId: id("identity provider id") });

/**
 * The redirect URI of one provider, `{origin}/auth/oidc/callback/{account}/{provider}`: each has its
 * own, so that a browser the provider sends back is known to come from it (RFC 9700 §4.4.2, the
 * defence against mix-up attacks that does not depend on the provider sending `iss`, RFC 9207).
 */
export const callbackPath = (accountId: string, identityProviderId: string): string => `/auth/oidc/callback/${accountId}/${identityProviderId}`;

/**
 * Sends the browser to the identity provider, keeping the sign-in's state in the login cookie; the
 * provider returns to its own `callbackPath` whether the sign-in is the console's or firectl's.
 */
export async function redirectToProvider(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
  params: { accountId: string; identityProviderId: string },
  next: string | undefined,
  cli?: CliRequest,
): Promise<FastifyReply> {
  const redirectUri = `${requestOrigin(request, deps.config.publicUrl)}${callbackPath(params.accountId, params.identityProviderId)}`;
  let start;
  try {
    start = await beginOidcLogin(deps, params.accountId, params.identityProviderId, redirectUri, next, cli);
  } catch (error) {
    // Anyone may ask to start, and a start may cost a call to a tenant-chosen issuer: a refused one
    // (unknown or disabled provider, an issuer that does not answer) counts against the address.
    if (!(error instanceof ApiError)) throw error;
    throw await failedAuthentication(deps, request, { operationId: cli ? "StartCliSignIn" : "StartOidcSignIn", accountId: params.accountId }, error);
  }
  setCookie(reply, loginCookieName(deps, request), start.cookie, { path: LOGIN_COOKIE_PATH, maxAge: start.maxAgeSeconds, secure: secure(deps, request) });
  void reply.header("cache-control", "no-store");
  return reply.redirect(start.authorizationUrl, 302);
}

/** The refusal of a browser returning to another provider's redirect URI than its sign-in's. */
function providerMixUp(login: LoginState, params: { accountId: string; identityProviderId: string }): ApiError {
  return unauthenticated(
    `this sign-in began with identity provider "${login.idpId}" of account "${login.accountId}", but the browser came back to the address of "${params.identityProviderId}" of account "${params.accountId}"; start the sign-in again`,
  );
}

/** Browser sign-in: OIDC, one-time links, the session itself, sign-out; and the admin's revocation. */
export function signInRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/auth/oidc/{accountId}/{identityProviderId}/start",
    operationId: "StartOidcSignIn",
    summary:
      "Begin web sign-in with an identity provider: redirects to it (authorization code flow with PKCE). Only from Hearth's own sign-in page (Sec-Fetch-Site: same-origin, or a Referer of Hearth's origin); 403 otherwise",
    tag: "Sign-in",
    redirect: true,
    auth: false,
    params: providerParams,
    // A link in a mail may come back with a tracker's parameters (utm_source…): only `next` is read.
    query: z.looseObject({ next: z.string().max(1024).optional() }),
    handler: async ({ deps, params, query, request, reply }) => {
      const refusal = crossSiteStart(request, deps.config.publicUrl);
      if (refusal) throw await failedAuthentication(deps, request, { operationId: "StartOidcSignIn", accountId: params.accountId }, refusal);
      return redirectToProvider(deps, request, reply, params, query.next);
    },
  });

  router.add({
    method: "GET",
    url: "/auth/oidc/callback/{accountId}/{identityProviderId}",
    operationId: "FinishOidcSignIn",
    summary:
      "Where an identity provider sends the browser back (each provider its own address): checks that the sign-in began with this provider, then state, nonce, PKCE and issuer, then starts a session (or, for firectl, sends a one-time code to its loopback listener)",
    tag: "Sign-in",
    redirect: true,
    response: accountSwitchPage,
    responseType: "text/html",
    auth: false,
    params: providerParams,
    query: anyQuery,
    handler: async ({ deps, params, request, reply }) => {
      const callback = new URL(request.url, "http://hearth.invalid").searchParams;
      // The login state is single-use whatever the outcome.
      setCookie(reply, loginCookieName(deps, request), "", { path: LOGIN_COOKIE_PATH, maxAge: 0, secure: secure(deps, request) });
      let login: LoginState | undefined;
      try {
        login = readLoginState(deps, readCookie(request, loginCookieName(deps, request)));
        // A browser sent back by another provider than the one its sign-in began with: a mix-up
        // (another account's provider relaying this one's code), refused before any code is traded.
        if (login.accountId !== params.accountId || login.idpId !== params.identityProviderId) throw providerMixUp(login, params);
        // A client that keeps the cookie cannot replay it: each state is claimed once in the store.
        await claimLoginState(deps, login);
        if (login.cli) {
          void reply.headers({ "cache-control": "no-store", "referrer-policy": "no-referrer" });
          return reply.redirect(await finishCliLogin(deps, login, callback, requestMeta(request)), 302);
        }
        const done = await finishOidcLogin(deps, login, callback, requestMeta(request));
        return await signedIn(deps, request, reply, done.session, done.next);
      } catch (error) {
        // A failed callback may have cost a call to the provider's token endpoint: it counts against the address.
        if (!(error instanceof ApiError)) throw error;
        const resource = login ? identityProviderName(login.accountId, login.idpId) : identityProviderName(params.accountId, params.identityProviderId);
        throw await failedAuthentication(deps, request, { operationId: "FinishOidcSignIn", accountId: login?.accountId, resource }, error);
      }
    },
  });

  router.add({
    method: "GET",
    url: "/auth/link/{token}",
    operationId: "RedeemSigninLink",
    summary: "A one-time sign-in link: works once within 15 minutes, starts a session and redirects to `next` (same origin) or /",
    tag: "Sign-in",
    redirect: true,
    response: accountSwitchPage,
    responseType: "text/html",
    auth: false,
    params: z.object({ token: z.string().max(128) }),
    // A link in a mail may come back with a tracker's parameters (utm_source…): only `next` is read.
    query: z.looseObject({ next: z.string().max(1024).optional() }),
    handler: async ({ deps, params, query, request, reply }) => {
      void reply.header("referrer-policy", "no-referrer");
      let session: NewSession;
      try {
        session = await redeemSigninLink(deps, params.token, requestMeta(request));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        throw await failedAuthentication(deps, request, { operationId: "RedeemSigninLink", resource: "auth/link" }, error);
      }
      return signedIn(deps, request, reply, session, safeNextPath(query.next));
    },
  });

  router.add({
    method: "GET",
    url: "/auth/session",
    operationId: "GetSession",
    actions: [],
    summary: "Who is signed in; with a session cookie also the x-csrf-token value that changes must send",
    tag: "Sign-in",
    response: sessionSchema,
    handler: async ({ ctx, request, reply }) => {
      void reply.header("cache-control", "no-store");
      const p = ctx.principal;
      const session = sessionOfRequest(request);
      return {
        accountId: p.accountId,
        user: userName(p.accountId, p.userId),
        email: p.email,
        role: p.role,
        serviceAccount: p.serviceAccount,
        via: session ? "session" : p.apiKeyId ? "apiKey" : "oidcToken",
        actions: ACTION_NAMES.filter((action) => holds(p, action)),
        ...(session ? { csrfToken: session.csrfToken, expireTime: new Date(session.expireTime).toISOString() } : {}),
      };
    },
  });

  router.add({
    method: "POST",
    url: "/auth/signout",
    operationId: "SignOut",
    summary: "End this browser's session (needs the x-csrf-token header); always clears the cookie",
    tag: "Sign-in",
    response: empty,
    auth: false,
    handler: async ({ deps, request, reply }) => {
      const token = readCookie(request, sessionCookieName(request, deps.config.publicUrl));
      if (token) {
        try {
          const session = await sessionPrincipal(deps, request, requestMeta(request));
          if (session) {
            // Not an authenticated route, so the router writes no refusal: a forged sign-out is recorded here, with the same writer.
            try {
              requireCsrfProof(deps.config.publicUrl, request);
            } catch (refusal) {
              await auditRefused(
                deps,
                { principal: session.principal, meta: requestMeta(request), checked: [] },
                { method: "SignOut", resource: "auth/signout" },
                refusal,
              );
              throw refusal;
            }
            await endSession(deps, token, requestMeta(request));
          }
        } catch (error) {
          // An ended, unknown or refused (service account) session is already gone; a missing CSRF proof is not.
          const gone = error instanceof ApiError && (error.status === "UNAUTHENTICATED" || error.message === SERVICE_ACCOUNT_SIGN_IN);
          if (!gone) throw error;
        }
      }
      setCookie(reply, sessionCookieName(request, deps.config.publicUrl), "", { path: "/", maxAge: 0, secure: secure(deps, request) });
      void reply.header("cache-control", "no-store");
      return {};
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}:revokeSessions",
    operationId: "RevokeSessions",
    actions: ["users.revokeSessions"],
    summary: "End every browser session of a user (admin); API keys are not affected",
    tag: "Users",
    response: revokedSessions,
    params: userParams,
    handler: ({ deps, ctx, params }) => revokeSessions(deps, ctx, params.accountId, params.userId),
  });
}
