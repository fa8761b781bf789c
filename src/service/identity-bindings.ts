import { invalidArgument, notFound } from "../domain/errors.ts";
import { checkId, userName } from "../domain/ids.ts";
import { formatTimestamp } from "../domain/time.ts";
import { deleteUserBindings, listUserBindings } from "../store/identity-bindings.ts";
import type { Db } from "../store/store.ts";
import { audited } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { identityProviderName } from "./identity-providers.ts";
import { authorize } from "./permissions.ts";
import { getUserRow } from "./users.ts";
import { userView, type User } from "./views.ts";

/** A human's binding to an identity provider's subject (read-only; made at the first allowed sign-in). */
export interface IdentityBinding {
  identityProvider: string;
  issuer: string;
  subject: string;
  createTime: string;
}

/** The user's bindings, as shown on the User resource (`identityBindings`). */
export async function identityBindingsOf(db: Db, accountId: string, userId: string): Promise<IdentityBinding[]> {
  const rows = await listUserBindings(db, accountId, userId);
  return rows.map((r) => ({
    identityProvider: identityProviderName(r.account_id, r.identity_provider_id),
    issuer: r.issuer,
    subject: r.subject,
    createTime: formatTimestamp(r.create_time),
  }));
}

/** The provider id from an id or `accounts/{a}/identityProviders/{id}`. */
function providerId(accountId: string, value: string): string {
  const prefix = `accounts/${accountId}/identityProviders/`;
  if (value.startsWith(prefix)) return checkId(value.slice(prefix.length), "identityProvider");
  if (value.includes("/")) throw invalidArgument(`invalid identityProvider ${JSON.stringify(value)}: expected an id or a name like ${prefix}ID`);
  return checkId(value, "identityProvider");
}

/**
 * Admin only: forgets a user's binding to a provider's subject (all of them without
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
    const row = await getUserRow(trx, accountId, userId);
    const idpId = identityProvider ? providerId(accountId, identityProvider) : undefined;
    const removed = await deleteUserBindings(trx, accountId, userId, idpId);
    if (removed === 0) {
      throw notFound(idpId ? `user "${userId}" is not bound to identity provider "${idpId}"` : `user "${userId}" has no identity bindings`);
    }
    return { ...userView(row), identityBindings: await identityBindingsOf(trx, accountId, userId) };
  });
}
