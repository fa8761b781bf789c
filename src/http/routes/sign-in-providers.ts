import { z } from "zod";
import { signInProviders } from "../../service/sign-in-providers.ts";
import type { Router } from "../route.ts";
import { signInProviderList } from "../resources/sign-in.ts";

/** The public list behind the console's sign-in page. */
export function signInProviderRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/auth/providers",
    operationId: "ListSignInProviders",
    summary:
      "Public: the identity providers of an account (default HEARTH_ACCOUNT_ID) a person can sign in with — id, display name and start URL, never issuer or secrets; an unknown account lists none",
    tag: "Sign-in",
    response: signInProviderList,
    auth: false,
    query: z.object({ account: z.string().max(63).optional() }),
    handler: async ({ deps, query, reply }) => {
      void reply.header("cache-control", "no-store");
      return signInProviders(deps, query.account || deps.config.accountId);
    },
  });
}
