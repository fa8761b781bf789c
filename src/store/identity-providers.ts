import type { IdentityProviderRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";

export async function insertIdentityProvider(db: Db, row: IdentityProviderRow): Promise<void> {
  await insertUnique(() => db.insertInto("identity_providers").values(row).execute(), `identity provider "${row.id}" already exists`);
}

export function getIdentityProvider(db: Db, accountId: string, id: string): Promise<IdentityProviderRow | undefined> {
  return db.selectFrom("identity_providers").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

export function listIdentityProviders(db: Db, accountId: string): Promise<IdentityProviderRow[]> {
  return db.selectFrom("identity_providers").selectAll().where("account_id", "=", accountId).orderBy("id").execute();
}

/** Identity providers with this issuer, in one account or (without `accountId`) in every account. */
export function identityProvidersByIssuer(db: Db, issuerUrl: string, accountId?: string): Promise<IdentityProviderRow[]> {
  let q = db.selectFrom("identity_providers").selectAll().where("issuer_url", "=", issuerUrl);
  if (accountId !== undefined) q = q.where("account_id", "=", accountId);
  return q.orderBy("account_id").orderBy("id").execute();
}

export type IdentityProviderPatch = Partial<Omit<IdentityProviderRow, "account_id" | "id" | "create_time">>;

export async function updateIdentityProvider(db: Db, accountId: string, id: string, patch: IdentityProviderPatch): Promise<void> {
  await db.updateTable("identity_providers").set(patch).where("account_id", "=", accountId).where("id", "=", id).execute();
}

export async function deleteIdentityProvider(db: Db, accountId: string, id: string): Promise<void> {
  await db.deleteFrom("identity_providers").where("account_id", "=", accountId).where("id", "=", id).execute();
}

/** True when any identity provider of the account enforces SSO. */
export async function accountEnforcesSso(db: Db, accountId: string): Promise<boolean> {
  const row = await db
    .selectFrom("identity_providers")
    .select("id")
    .where("account_id", "=", accountId)
    .where("enforce_sso", "=", 1)
    .executeTakeFirst();
  return row !== undefined;
}
