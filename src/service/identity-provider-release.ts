import { failedPrecondition, notFound } from "../domain/errors.ts";
import { deleteProviderBindings } from "../store/identity-bindings.ts";
import { issuerKey } from "../domain/issuer-identifier.ts";
import { identityProviderName } from "../domain/resource-names.ts";
import { listIdentityProviders, providerHoldingPair, updateIdentityProvider } from "../store/identity-providers.ts";
import { deleteSessionsVia } from "../store/sessions.ts";
import type { IdentityProviderRow } from "../store/schema.ts";
import type { Db, Store } from "../store/store.ts";
import { auditOperator } from "./operator-audit.ts";

/**
 * @module The operator settles who owns an `(issuer, client id)` pair (issue 13: squatting). An account may
 * register a pair only while no other READY provider holds it, so the first to register wins; when
 * that was the wrong account, `hearth identity-provider release` disables its provider (its
 * sessions end, its subject bindings go) and, with `--to`, re-enables the disabled provider of the
 * rightful account. Each change is audited as the operator in the account it concerns.
 */

/** What a release changed. */
export interface Release {
  /** Name of the provider that lost the pair. */
  released: string;
  /** Name of the provider that now holds it (`--to`), if any. */
  grantedTo?: string;
}

async function operatorAudit(db: Db, row: IdentityProviderRow, method: string, payload: Record<string, unknown>): Promise<void> {
  await auditOperator(db, row.account_id, { method, resource: identityProviderName(row.account_id, row.id), payload });
}

/**
 * Takes `(issuerUrl, clientId)` away from the READY provider holding it, in one transaction.
 * @param toAccountId an account whose DISABLED provider with the same pair becomes READY.
 * @throws NOT_FOUND when no provider holds the pair, or `toAccountId` has none disabled with it.
 */
export async function releaseIdentityProvider(store: Store, issuerUrl: string, clientId: string, toAccountId?: string): Promise<Release> {
  return store.db.transaction().execute(async (trx) => {
    const holder = await providerHoldingPair(trx, issuerUrl, clientId);
    if (!holder) throw notFound(`no identity provider holds issuer ${JSON.stringify(issuerUrl)} with client id ${JSON.stringify(clientId)}`);
    if (toAccountId === holder.account_id) throw failedPrecondition(`account "${toAccountId}" already holds this issuer and client id`);
    const now = Date.now();
    await updateIdentityProvider(trx, holder.account_id, holder.id, { state: "DISABLED", update_time: now });
    await deleteSessionsVia(trx, holder.account_id, `oidc:${holder.id}`);
    await deleteProviderBindings(trx, holder.account_id, holder.id);
    const payload = { issuerUrl, clientId, ...(toAccountId ? { grantedTo: toAccountId } : {}) };
    await operatorAudit(trx, holder, "ReleaseIdentityProvider", payload);
    const release: Release = { released: identityProviderName(holder.account_id, holder.id) };
    if (toAccountId === undefined) return release;
    const key = issuerKey(issuerUrl);
    const heir = (await listIdentityProviders(trx, toAccountId)).find((p) => p.issuer_key === key && p.client_id === clientId && p.state === "DISABLED");
    if (!heir) throw notFound(`account "${toAccountId}" has no disabled identity provider with this issuer and client id`);
    await updateIdentityProvider(trx, heir.account_id, heir.id, { state: "READY", update_time: now });
    await operatorAudit(trx, heir, "GrantIdentityProvider", { issuerUrl, clientId });
    return { ...release, grantedTo: identityProviderName(heir.account_id, heir.id) };
  });
}
