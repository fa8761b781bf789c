import { invalidArgument, notFound } from "../domain/errors.ts";
import { checkEmail, checkId, idFromEmail } from "../domain/ids.ts";
import { getAccount as getRow, insertAccount, listAccountPage } from "../store/accounts.ts";
import type { ListRequest } from "../store/list.ts";
import { insertDefaultQuotas } from "../store/quotas.ts";
import { insertUser } from "../store/users.ts";
import { insertApiKey, NO_RESTRICTIONS } from "../store/api-keys.ts";
import type { Db, Store } from "../store/store.ts";
import { generateKey, newKeyId } from "../domain/api-key-format.ts";
import type { Config } from "../config.ts";
import type { Ctx, Deps } from "./context.ts";
import { auditOperator } from "./operator-audit.ts";
import { authorize } from "./permissions.ts";
import { accountView } from "./views.ts";
import { accountName, apiKeyName } from "../domain/resource-names.ts";

/** The caller's account (another account's is NOT_FOUND, at the HTTP edge: see `authenticateRequest`). */
export async function getAccount(deps: Deps, ctx: Ctx, accountId: string) {
  authorize(ctx, "accounts.get");
  const row = await getRow(deps.store.db, accountId);
  if (!row) throw notFound(`account "${accountId}" not found`);
  return accountView(row);
}

/**
 * ListAccounts: a credential (API key, session or token) belongs to one account, so the list holds
 * at most that one account — the caller's, when it matches `req.filter` (AIP-160); paged per AIP-158.
 */
export async function listAccounts(deps: Deps, ctx: Ctx, req: ListRequest) {
  authorize(ctx, "accounts.get");
  const page = await listAccountPage(deps.store.db, [ctx.principal.accountId], req);
  return { accounts: page.rows.map(accountView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
}

export interface NewAccount {
  accountId: string;
  adminUserId: string;
  adminEmail: string;
  /** The admin's first API key, shown once. */
  apiKey: string;
}

/**
 * The domain of `accountId`'s service-account emails: the one recorded when the account was created
 * (docs/operations.md), else (an account start-up has not upgraded yet) HEARTH_SA_DOMAIN.
 */
export async function serviceAccountDomain(deps: Deps, db: Db, accountId: string): Promise<string> {
  return (await getRow(db, accountId))?.sa_domain || deps.config.saDomain;
}

/**
 * Operator action: creates an account with its default quotas, a human admin and that admin's
 * first API key (prefix HEARTH_KEY_PREFIX), all in one transaction with their audit entries. The
 * account keeps HEARTH_SA_DOMAIN as its service-account domain.
 * @throws INVALID_ARGUMENT for a bad id or email, or the id of the public models' account (`config.platform.publicAccountId`).
 */
export async function createAccount(
  store: Store,
  config: Pick<Config, "keyPrefix" | "saDomain"> & { platform?: Pick<Config["platform"], "publicAccountId"> },
  accountId: string,
  adminEmail: string,
): Promise<NewAccount> {
  checkId(accountId, "account id");
  // The public models' account is the operator's catalogue: an account of that id would have its own models shadowed by it.
  if (accountId === config.platform?.publicAccountId)
    throw invalidArgument(`account id "${accountId}" is the public models' account (publicAccountId in HEARTH_CONFIG); choose another`);
  const email = checkEmail(adminEmail, "admin email");
  const adminUserId = idFromEmail(email);
  const material = generateKey(config.keyPrefix);
  const now = Date.now();
  await store.db.transaction().execute(async (trx) => {
    await insertAccount(trx, {
      id: accountId,
      display_name: accountId,
      email,
      state: "READY",
      sa_domain: config.saDomain,
      create_time: now,
      update_time: now,
    });
    await insertDefaultQuotas(trx, accountId, now);
    await insertUser(trx, {
      account_id: accountId,
      id: adminUserId,
      display_name: "Administrator",
      email,
      role: "admin",
      service_account: 0,
      state: "READY",
      create_time: now,
      update_time: now,
    });
    const keyId = newKeyId();
    await insertApiKey(trx, {
      id: keyId,
      account_id: accountId,
      user_id: adminUserId,
      display_name: "bootstrap",
      digest: material.digest,
      prefix: material.displayPrefix,
      create_time: now,
      expire_time: null,
      last_used: null,
      annotations: "{}",
      state: "ENABLED",
      disable_reason: "",
      last_used_ip: "",
      last_used_user_agent: "",
      successor_key_id: "",
      limits_key_id: "",
      parent_key_id: "",
      ...NO_RESTRICTIONS,
    });
    await auditOperator(trx, accountId, { method: "CreateAccount", resource: accountName(accountId), payload: { adminEmail: email } });
    await auditOperator(trx, accountId, { method: "CreateApiKey", resource: apiKeyName(accountId, adminUserId, keyId) });
  });
  return { accountId, adminUserId, adminEmail: email, apiKey: material.key };
}
