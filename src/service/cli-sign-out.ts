import * as client from "openid-client";
import { recordCliSignOut } from "../store/cli-sign-outs.ts";
import { getIdentityProvider } from "../store/identity-providers.ts";
import { getUser } from "../store/users.ts";
import { openRefresh } from "./cli-sign-in.ts";
import type { RequestMeta } from "./context.ts";
import { oidcConfiguration } from "./oidc-discovery.ts";
import { auditSignIn, type SignInDeps } from "./sign-in.ts";

/**
 * `firectl signout` (`POST /auth/cli/signout`): ends the firectl sign-in that `refreshToken` (the
 * provider's, sealed by Hearth) descends from. At Hearth, no refresh token of that browser sign-in
 * is renewed again, whoever holds a copy of it (`refreshCliSignIn` refuses it); the end is audited
 * as `SignOut` in the user's account. At the provider, the refresh token is revoked (RFC 7009) where
 * its discovery document names a `revocation_endpoint` and it is still the issuer that issued the
 * token; a refusal or failure there changes nothing at Hearth. The ID token firectl held stays
 * valid until it expires, as any bearer token does. Ending a sign-in twice, or one whose user is
 * gone, is not an error.
 * @returns whether the provider revoked its refresh token.
 * @throws UNAUTHENTICATED when `refreshToken` is not one Hearth sealed for this provider.
 */
export async function signOutCli(
  deps: SignInDeps,
  accountId: string,
  idpId: string,
  refreshToken: string,
  meta: RequestMeta,
): Promise<{ revokedAtProvider: boolean }> {
  const envelope = openRefresh(deps, accountId, idpId, refreshToken);
  const user = await getUser(deps.store.db, accountId, envelope.userId);
  if (!user) return { revokedAtProvider: false };
  await deps.store.db.transaction().execute(async (trx) => {
    await recordCliSignOut(trx, { account_id: accountId, user_id: user.id, sign_in_time: envelope.signInTime, sign_out_time: Date.now() });
    await auditSignIn(trx, user, "oidc-refresh", meta, { identityProvider: idpId, client: "firectl" }, undefined, "SignOut");
  });
  const row = await getIdentityProvider(deps.store.db, accountId, idpId);
  // The refresh token goes back only to the issuer that issued it (see refreshCliSignIn).
  if (!row || envelope.issuerUrl !== row.issuer_url) return { revokedAtProvider: false };
  try {
    const config = await oidcConfiguration(deps, row);
    if (!config.serverMetadata().revocation_endpoint) return { revokedAtProvider: false };
    await client.tokenRevocation(config, envelope.refreshToken, { token_type_hint: "refresh_token" });
    return { revokedAtProvider: true };
  } catch {
    // Ended at Hearth already; the provider's refusal or silence is reported as not revoked there.
    return { revokedAtProvider: false };
  }
}
