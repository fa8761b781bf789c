import { notFound } from "../domain/errors.ts";
import { deleteUserBindings } from "../store/identity-bindings.ts";
import { lockAccount } from "../store/accounts.ts";
import { audited } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";
import { requireGrantable } from "./permission-presets.ts";
import { getUserRow, userResource, type IdentityBinding } from "./users.ts";
import type { User } from "./views.ts";
import { collectionName, idFromName, userName } from "../domain/resource-names.ts";

/** The provider id from an id or `accounts/{a}/identityProviders/{id}`. */
function providerId(accountId: string, value: string): string {
  return idFromName(value, collectionName(accountId, "identityProviders"), "identityProvider");
}

/**
 * Admin only (and never of a principal holding actions the caller does not): forgets a user's binding to a provider's subject (all of them without
 * `identityProvider`), for when a provider re-issued its subjects. The next allowed sign-in binds
 * the user again (issue 13).
 * @throws NOT_FOUND when the user has no such binding.
 */
export async function unbindIdentity(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  userId: string,
  identityProvider: string | undefined,
): Promise<User & { identityBindings: IdentityBinding[] }> {
  const op = { method: "UnbindIdentity", resource: userName(accountId, userId), payload: { identityProvider: identityProvider ?? null } };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "users.unbindIdentity");
    // Locked before the role is read and judged, as every act on a principal's rank is (updateUser).
    await lockAccount(deps.store, trx, accountId);
    const row = await getUserRow(trx, accountId, userId);
    // Unbound, a user is bound afresh by the next sign-in its providers allow: a step toward signing in as it.
    await requireGrantable(trx, ctx, accountId, row.role, row.permission_preset, "remove the identity bindings of a principal with");
    const idpId = identityProvider ? providerId(accountId, identityProvider) : undefined;
    const removed = await deleteUserBindings(trx, accountId, userId, idpId);
    if (removed === 0) {
      throw notFound(idpId ? `user "${userId}" is not bound to identity provider "${idpId}"` : `user "${userId}" has no identity bindings`);
    }
    return userResource(trx, row);
  });
}
