import type { IdentityBindingRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { writeUnique } from "./errors.ts";

/** Bindings of humans to an identity provider's `(iss, sub)` (issue 13: no takeover by an asserted email). */

export function getBinding(db: Db, accountId: string, userId: string, idpId: string): Promise<IdentityBindingRow | undefined> {
  return db
    .selectFrom("identity_bindings")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .where("identity_provider_id", "=", idpId)
    .executeTakeFirst();
}

/** The binding of a provider's subject, whichever user holds it. */
export function bindingOfSubject(db: Db, accountId: string, idpId: string, subject: string): Promise<IdentityBindingRow | undefined> {
  return db
    .selectFrom("identity_bindings")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("identity_provider_id", "=", idpId)
    .where("subject", "=", subject)
    .executeTakeFirst();
}

/** Records a binding; a user already bound to the provider, or a subject bound to another user, is ALREADY_EXISTS. */
export async function insertBinding(db: Db, row: IdentityBindingRow): Promise<void> {
  await writeUnique(() => db.insertInto("identity_bindings").values(row).execute(), "this identity is already bound", []);
}

export function listUserBindings(db: Db, accountId: string, userId: string): Promise<IdentityBindingRow[]> {
  return db
    .selectFrom("identity_bindings")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("user_id", "=", userId)
    .orderBy("identity_provider_id")
    .execute();
}

/** Removes a user's bindings (to one provider, or all); returns how many were removed. */
export async function deleteUserBindings(db: Db, accountId: string, userId: string, idpId?: string): Promise<number> {
  let q = db.deleteFrom("identity_bindings").where("account_id", "=", accountId).where("user_id", "=", userId);
  if (idpId !== undefined) q = q.where("identity_provider_id", "=", idpId);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes every binding to a provider (it was deleted or released). */
export async function deleteProviderBindings(db: Db, accountId: string, idpId: string): Promise<void> {
  await db.deleteFrom("identity_bindings").where("account_id", "=", accountId).where("identity_provider_id", "=", idpId).execute();
}
