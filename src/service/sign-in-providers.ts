import { isValidId } from "../domain/ids.ts";
import { listIdentityProviders } from "../store/identity-providers.ts";
import type { Deps } from "./context.ts";
import type { SignInProvider } from "../http/resources/sign-in.ts";

/** What the sign-in page may show about an identity provider before anyone is signed in (the response schema of `/openapi.json`). */
export type { SignInProvider };

/**
 * The identity providers a person can sign in with to an account: names and start URLs only, no
 * issuer, client id or secret. An unknown account has none, exactly like an account without
 * providers, so the answer does not tell whether an account exists.
 */
export async function signInProviders(deps: Deps, accountId: string): Promise<{ accountId: string; identityProviders: SignInProvider[] }> {
  const rows = isValidId(accountId) ? await listIdentityProviders(deps.store.db, accountId) : [];
  return {
    accountId,
    // A DISABLED provider (its issuer and client id belong to another account) is not offered.
    identityProviders: rows
      .filter((row) => row.state === "READY")
      .map((row) => ({
        id: row.id,
        displayName: row.display_name || row.id,
        startUrl: `/auth/oidc/${row.account_id}/${row.id}/start`,
      })),
  };
}
