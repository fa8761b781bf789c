/**
 * @module The operator as an audit principal. Operator commands (`hearth account create`, `account
 * quota set`, `user set-role`, `identity-provider release`, `signin-link`, `restore`; docs/operations.md)
 * act on the store directly, with no API key or session: each change they make
 * is recorded, in the account it concerns, as principal "operator", an admin action.
 */
import { ApiError } from "../domain/errors.ts";
import { accountIds, getAccount } from "../store/accounts.ts";
import type { Db, Store } from "../store/store.ts";
import { writeAudit } from "./audit.ts";
import type { Operation, RequestMeta } from "./context.ts";
import { accountName } from "../domain/resource-names.ts";

/** The request metadata of an operator command: user agent "hearth", no client address. */
export const OPERATOR_META: RequestMeta = { userAgent: "hearth", clientIp: "", authentication: "operator" };

/**
 * Writes one operator entry in `accountId` (in `db`: a transaction, to commit or roll back with the
 * change it records). `error`: the refusal it records, if any.
 * @throws UNAVAILABLE (503) when the entry cannot be written (see `writeAudit`).
 */
export async function auditOperator(db: Db, accountId: string, op: Operation, error?: unknown): Promise<void> {
  await writeAudit(db, { accountId, email: "operator", apiKeyId: "", principalType: "OPERATOR", meta: OPERATOR_META }, { ...op, isAdminAction: true }, error);
}

/**
 * Runs an operator change of `accountId` and its entry in one transaction (the change may refine
 * `op`'s resource and payload once it knows more). A refusal (ApiError) on an account that exists
 * is recorded too, after the rollback, then rethrown.
 */
export async function operatorChange<T>(store: Store, accountId: string, op: Operation, change: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await store.db.transaction().execute(async (trx) => {
      const result = await change(trx);
      await auditOperator(trx, accountId, op);
      return result;
    });
  } catch (error) {
    if (error instanceof ApiError && (await getAccount(store.db, accountId))) await auditOperator(store.db, accountId, op, error);
    throw error;
  }
}

/**
 * After `hearth restore`: one `RestoreStore` entry in every account of the restored store, naming
 * the backup file (as given, made absolute by the caller) and its schema version.
 * @returns the number of accounts written to.
 */
export async function auditRestore(store: Store, backupFile: string, schemaVersion: number): Promise<number> {
  const ids = await accountIds(store.db);
  await store.db.transaction().execute(async (trx) => {
    for (const id of ids) {
      await auditOperator(trx, id, { method: "RestoreStore", resource: accountName(id), payload: { backupFile, schemaVersion } });
    }
  });
  return ids.length;
}
