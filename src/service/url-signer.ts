import { networkAllows } from "../domain/api-key-restrictions.ts";
import { permissionDenied } from "../domain/errors.ts";
import type { Principal } from "../domain/principal.ts";
import type { SignedGrant } from "../domain/signed-url.ts";
import { findKeyById } from "../store/api-keys.ts";
import type { Db } from "../store/store.ts";
import { getUserByUid } from "../store/users.ts";
import { keyPrincipal } from "./authenticate.ts";
import type { Deps } from "./context.ts";
import { withPresetActions } from "./permission-presets.ts";
import { humanPrincipal } from "./sign-in.ts";

/**
 * @module Who a signed URL acts for (`SignedGrant.signer`): the principal that asked for it, read
 * again from the store each time the URL is used, so a URL stops working when its signer could no
 * longer do what it grants — its API key deleted, disabled, expired or limited to other addresses
 * (`allowedCidrs`), its user deleted or its sessions revoked since, its role changed — as a cloud
 * store's presigned URL stops with the credentials that signed it.
 */

/** `key:ID` for a principal acting through an API key, else `user:UID` (a signed-in person). */
export function signerOf(principal: Principal): string {
  return principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.uid}`;
}

const gone = (signer: string, why: string) =>
  permissionDenied(`the ${signer.startsWith("key:") ? "API key" : "user"} that asked for this URL ${why}: ask for a new URL`);

/**
 * The principal `grant.signer` names in the grant's account, as it stands now (role, preset, the
 * key's scopes), read from `db` (a transaction, to check again as a change commits).
 * @param clientIp the address the URL is used from, checked against the key's `allowedCidrs`.
 * @throws PERMISSION_DENIED (403) when the signer is malformed; its key gone, disabled, expired (at
 * `deps.clock`) or not allowed from `clientIp`; its user gone or its sessions revoked at or after
 * `grant.issued`.
 */
export async function signerPrincipal(deps: Deps, db: Db, grant: SignedGrant, clientIp: string): Promise<Principal> {
  const [kind, id = ""] = grant.signer.split(/:(.*)/s);
  if (kind === "key") {
    const row = await findKeyById(db, grant.accountId, id);
    if (!row) throw gone(grant.signer, "no longer exists");
    if (row.state !== "ENABLED") throw gone(grant.signer, "is disabled");
    if (row.expire_time !== null && row.expire_time <= deps.clock.now()) throw gone(grant.signer, "has expired");
    const principal = await keyPrincipal(db, row);
    if (!networkAllows(principal.restrictions, clientIp)) throw gone(grant.signer, `does not allow requests from ${clientIp} (its allowedCidrs)`);
    return principal;
  }
  if (kind === "user") {
    const user = await getUserByUid(db, grant.accountId, id);
    if (!user) throw gone(grant.signer, "no longer exists");
    if ((user.sessions_revoke_time ?? 0) >= grant.issued * 1000) throw gone(grant.signer, "had its sessions revoked since it was made");
    return withPresetActions(db, humanPrincipal(user));
  }
  throw permissionDenied("the URL names no signer: ask for a new URL");
}
