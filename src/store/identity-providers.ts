import { issuerKey } from "../domain/issuer-identifier.ts";
import type { IdentityProviderRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { writeUnique, type UniqueIndex } from "./errors.ts";
import { nameField } from "./filter-sql.ts";
import { withFolded } from "./folded-columns.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { collectionName } from "../domain/resource-names.ts";

/**
 * The one fact a refused registration reveals: the pair is taken (never by which account).
 * Issue 13: an (issuer, client id) pair maps to exactly one provider of one account.
 */
export const PAIR_TAKEN = "this issuer and client id are registered to another account; ask the operator";

const PAIR_INDEX: UniqueIndex = {
  name: "identity_providers_client",
  columns: "identity_providers.issuer_key, identity_providers.client_id",
  message: PAIR_TAKEN,
};

export async function insertIdentityProvider(db: Db, row: IdentityProviderRow): Promise<void> {
  await writeUnique(
    () =>
      db
        .insertInto("identity_providers")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `identity provider "${row.id}" already exists`,
    [PAIR_INDEX],
  );
}

/** The READY provider holding `(issuerUrl, clientId)` in any account, whatever the issuer's spelling (issuerKey). */
export function providerHoldingPair(db: Db, issuerUrl: string, clientId: string): Promise<IdentityProviderRow | undefined> {
  return db
    .selectFrom("identity_providers")
    .selectAll()
    .where("issuer_key", "=", issuerKey(issuerUrl))
    .where("client_id", "=", clientId)
    .where("state", "=", "READY")
    .executeTakeFirst();
}

/** Providers another account's registration of the same pair disabled (upgrade, operator release), oldest first. */
export function disabledIdentityProviders(db: Db): Promise<IdentityProviderRow[]> {
  return db.selectFrom("identity_providers").selectAll().where("state", "=", "DISABLED").orderBy("account_id").orderBy("id").execute();
}

export function getIdentityProvider(db: Db, accountId: string, id: string): Promise<IdentityProviderRow | undefined> {
  return db.selectFrom("identity_providers").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

/** Every provider of the account, by id (what sign-in offers; at most the "identity-providers" quota). */
export function listIdentityProviders(db: Db, accountId: string): Promise<IdentityProviderRow[]> {
  return db.selectFrom("identity_providers").selectAll().where("account_id", "=", accountId).orderBy("id").execute();
}

const identityProvidersTable = (accountId: string): ListTable => ({
  fields: {
    name: nameField(collectionName(accountId, "identityProviders")),
    display_name: { column: "display_name", type: "string", folded: true },
    state: { column: "state", type: "enum", values: ["READY", "DISABLED"] },
    create_time: { column: "create_time", type: "timestamp" },
    update_time: { column: "update_time", type: "timestamp" },
  },
  order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
});

/** One page (AIP-158) of the account's providers matching `req.filter` (AIP-160: name, display_name, state, create_time, update_time). */
export function listIdentityProviderPage(db: Db, accountId: string, req: ListRequest): Promise<ListResult<IdentityProviderRow>> {
  return listPage<IdentityProviderRow>(db.selectFrom("identity_providers").where("account_id", "=", accountId), identityProvidersTable(accountId), req);
}

/** Identity providers with this issuer, in one account or (without `accountId`) in every account. */
export function identityProvidersByIssuer(db: Db, issuerUrl: string, accountId?: string): Promise<IdentityProviderRow[]> {
  let q = db.selectFrom("identity_providers").selectAll().where("issuer_url", "=", issuerUrl);
  if (accountId !== undefined) q = q.where("account_id", "=", accountId);
  return q.orderBy("account_id").orderBy("id").execute();
}

export type IdentityProviderPatch = Partial<Omit<IdentityProviderRow, "account_id" | "id" | "create_time">>;

export async function updateIdentityProvider(db: Db, accountId: string, id: string, patch: IdentityProviderPatch): Promise<void> {
  await writeUnique(
    () =>
      db
        .updateTable("identity_providers")
        .set(withFolded(patch, ["display_name"]))
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute(),
    `identity provider "${id}" conflicts with another one`,
    [PAIR_INDEX],
  );
}

export async function deleteIdentityProvider(db: Db, accountId: string, id: string): Promise<void> {
  await db.deleteFrom("identity_providers").where("account_id", "=", accountId).where("id", "=", id).execute();
}

/** True when any usable (READY) identity provider of the account enforces SSO; a disabled one cannot lock humans out. */
export async function accountEnforcesSso(db: Db, accountId: string): Promise<boolean> {
  const row = await db
    .selectFrom("identity_providers")
    .select("id")
    .where("account_id", "=", accountId)
    .where("enforce_sso", "=", 1)
    .where("state", "=", "READY")
    .executeTakeFirst();
  return row !== undefined;
}
