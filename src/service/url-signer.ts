import { permissionDenied } from "../domain/errors.ts";
import type { Principal } from "../domain/principal.ts";
import { findKeyById } from "../store/api-keys.ts";
import { getUserByUid } from "../store/users.ts";
import { keyPrincipal } from "./authenticate.ts";
import type { Deps } from "./context.ts";
import { withPresetActions } from "./permission-presets.ts";
import { humanPrincipal } from "./sign-in.ts";

/**
 * @module Who a signed URL acts for (`SignedGrant.signer`): the principal that asked for it, read
 * again from the store each time the URL is used, so a URL stops working when its signer could no
 * longer do what it grants — its API key deleted, disabled or expired, its user deleted, its role
 * changed — as a cloud store's presigned URL stops with the credentials that signed it.
 */

/** `key:ID` for a principal acting through an API key, else `user:UID` (a signed-in person). */
export function signerOf(principal: Principal): string {
  return principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.uid}`;
}

const gone = (signer: string, why: string) =>
  permissionDenied(`the ${signer.startsWith("key:") ? "API key" : "user"} that asked for this URL ${why}: ask for a new URL`);

/**
 * The principal `signer` names in `accountId`, as it stands now (role, preset, the key's scopes).
 * @throws PERMISSION_DENIED (403) when it is malformed, or its key is gone, disabled or expired (at
 * `now`, epoch ms), or its user is gone.
 */
export async function signerPrincipal(deps: Deps, accountId: string, signer: string, now: number): Promise<Principal> {
  const db = deps.store.db;
  const [kind, id = ""] = signer.split(/:(.*)/s);
  if (kind === "key") {
    const row = await findKeyById(db, accountId, id);
    if (!row) throw gone(signer, "no longer exists");
    if (row.state !== "ENABLED") throw gone(signer, "is disabled");
    if (row.expire_time !== null && row.expire_time <= now) throw gone(signer, "has expired");
    return keyPrincipal(db, row);
  }
  if (kind === "user") {
    const user = await getUserByUid(db, accountId, id);
    if (!user) throw gone(signer, "no longer exists");
    return withPresetActions(db, humanPrincipal(user));
  }
  throw permissionDenied("the URL names no signer: ask for a new URL");
}
