import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Deps, RequestMeta } from "../../service/context.ts";
import { ApiError } from "../../domain/errors.ts";
import { isLoopbackRedirect, PKCE_CHALLENGE, PKCE_VERIFIER } from "../../domain/sign-in.ts";
import { redeemCliGrant, refreshCliSignIn } from "../../service/cli-sign-in.ts";
import { signOutCli } from "../../service/cli-sign-out.ts";
import { requestMeta } from "../request-meta.ts";
import { admitProviderCall, failedAuthentication } from "../auth-failures.ts";
import type { Router } from "../route.ts";
import { id } from "../schemas.ts";
import { providerParams, redirectToProvider } from "./sign-in.ts";
import { cliCredentials, cliSignOut } from "../resources/sign-in.ts";
import { identityProviderName } from "../../domain/resource-names.ts";

const STATE = /^[A-Za-z0-9._~-]{16,128}$/;

/** What firectl sends with its refresh token: the account and identity provider it was sealed for. */
const refreshTokenBody = z.object({ accountId: id("account id"), identityProviderId: id("identity provider id"), refreshToken: z.string().min(1).max(8192) });

/**
 * Runs `work` for a call that presents firectl's refresh token (a renewal, a sign-out): its answer
 * is not cached; it is counted per address and provider before `work` may call the provider (junk
 * tokens would each cost a call with Hearth's client secret, `admitProviderCall`); a refusal is a
 * failed authentication, counted and audited in the account (`failedAuthentication`).
 */
async function presentingRefreshToken<T>(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: z.output<typeof refreshTokenBody>,
  operationId: string,
  work: (meta: RequestMeta) => Promise<T>,
): Promise<T> {
  void reply.header("cache-control", "no-store");
  await admitProviderCall(deps, request, body.accountId, body.identityProviderId);
  try {
    return await work(requestMeta(request));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const resource = identityProviderName(body.accountId, body.identityProviderId);
    throw await failedAuthentication(deps, request, { operationId, accountId: body.accountId, resource }, error);
  }
}

/** `firectl signin` and `signout`: the browser half (start) and the calls firectl makes itself (token, refresh, signout). */
export function cliSignInRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/auth/cli/{accountId}/{identityProviderId}/start",
    operationId: "StartCliSignIn",
    summary:
      "Begin firectl's sign-in in the browser: like the web sign-in, but the outcome is a one-time code sent to firectl's loopback redirect_uri (RFC 8252), redeemable only with the PKCE verifier of code_challenge",
    tag: "Sign-in",
    redirect: true,
    auth: false,
    params: providerParams,
    query: z.object({
      redirect_uri: z
        .string()
        .max(256)
        .refine(isLoopbackRedirect, "must be http://127.0.0.1:PORT/... or http://[::1]:PORT/... (a loopback address with a port)"),
      state: z.string().regex(STATE, "must be 16 to 128 URL-safe characters"),
      code_challenge: z.string().regex(PKCE_CHALLENGE, "must be a base64url SHA-256 digest (43 characters)"),
      code_challenge_method: z.literal("S256", { message: 'only "S256" is supported' }),
    }),
    handler: ({ deps, params, query, request, reply }) =>
      redirectToProvider(deps, request, reply, params, undefined, { redirectUri: query.redirect_uri, state: query.state, codeChallenge: query.code_challenge }),
  });

  router.add({
    method: "POST",
    url: "/auth/cli/token",
    operationId: "RedeemCliSignIn",
    summary:
      "firectl trades the one-time code of its sign-in and the PKCE verifier for the identity provider's ID token (and refresh token); a code works once, within 2 minutes",
    tag: "Sign-in",
    response: cliCredentials,
    auth: false,
    body: z.object({ code: z.string().max(128), codeVerifier: z.string().regex(PKCE_VERIFIER, "must be 43 to 128 URL-safe characters (RFC 7636)") }),
    handler: async ({ deps, body, request, reply }) => {
      void reply.header("cache-control", "no-store");
      try {
        return await redeemCliGrant(deps, body.code, body.codeVerifier);
      } catch (error) {
        throw error instanceof ApiError
          ? await failedAuthentication(deps, request, { operationId: "RedeemCliSignIn", resource: "auth/cli/token" }, error)
          : error;
      }
    },
  });

  router.add({
    method: "POST",
    url: "/auth/cli/refresh",
    operationId: "RefreshCliSignIn",
    summary:
      "firectl trades its refresh token (the identity provider's, sealed by Hearth) for a new ID token (Hearth holds the client secret); the token must still name the same human of the account, whose sessions no admin has revoked since",
    tag: "Sign-in",
    response: cliCredentials,
    auth: false,
    body: refreshTokenBody,
    handler: ({ deps, body, request, reply }) =>
      presentingRefreshToken(deps, request, reply, body, "RefreshCliSignIn", (meta) =>
        refreshCliSignIn(deps, body.accountId, body.identityProviderId, body.refreshToken, meta),
      ),
  });

  router.add({
    method: "POST",
    url: "/auth/cli/signout",
    operationId: "SignOutCli",
    summary:
      "firectl signout: ends the firectl sign-in its refresh token descends from, so no copy of that token is renewed again, and revokes the token at the identity provider where it offers revocation (RFC 7009)",
    tag: "Sign-in",
    response: cliSignOut,
    auth: false,
    body: refreshTokenBody,
    handler: ({ deps, body, request, reply }) =>
      presentingRefreshToken(deps, request, reply, body, "SignOutCli", (meta) =>
        signOutCli(deps, body.accountId, body.identityProviderId, body.refreshToken, meta),
      ),
  });
}
