/**
 * @module `hearth user set-role`: the operator's way back into an account nobody can manage (its
 * admins demoted, deleted, or service accounts whose keys expired). It writes the store directly,
 * bypassing permissions but not the last-admin rule, and is audited as principal "operator".
 */
import { notFound } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import { normalizedEmail } from "../domain/email-address.ts";
import { getAccount, lockAccount } from "../store/accounts.ts";
import type { Store } from "../store/store.ts";
import * as users from "../store/users.ts";
import { keepAnActingAdmin } from "./acting-admins.ts";
import type { Operation } from "./context.ts";
import { operatorChange } from "./operator-audit.ts";
import { checkRole } from "./users.ts";
import { userName } from "../domain/resource-names.ts";
import { enqueueWebhookEvent, principalData } from "./webhook-events.ts";

/**
 * Gives the user `user` (a user id, or an email when it holds `@`) of `accountId` the role `role`,
 * in one transaction with its audit entry (`UpdateUser`, principal `operator`). A refusal on an
 * existing account is audited too. Running servers see the new role on their next key lookup, at
 * the latest after HEARTH_KEY_CACHE_TTL_MS.
 * @returns the user's id and its previous role.
 * @throws NOT_FOUND (account or user), INVALID_ARGUMENT (role, email), FAILED_PRECONDITION
 *   (the change would leave no admin who can act).
 */
export async function setRoleAsOperator(store: Store, accountId: string, user: string, role: string): Promise<{ userId: string; previousRole: string }> {
  const op: Operation = { method: "UpdateUser", resource: userName(accountId, user), payload: { user, role } };
  if (!(await getAccount(store.db, accountId))) throw notFound(`account "${accountId}" not found`);
  return operatorChange(store, accountId, op, async (trx) => {
    const newRole = checkRole(role);
    await lockAccount(store, trx, accountId);
    const row = user.includes("@") ? await users.getUserByEmail(trx, accountId, normalizedEmail(user)) : await users.getUser(trx, accountId, user);
    if (!row) throw notFound(`no user ${quoted(user)} in account "${accountId}" (give a user id or an email)`);
    op.resource = userName(accountId, row.id);
    await keepAnActingAdmin(trx, row, newRole);
    await users.updateUser(trx, accountId, row.id, { role: newRole, permission_preset: "", update_time: Date.now() });
    op.payload = { role: newRole, previousRole: row.role };
    if (newRole !== row.role) {
      await enqueueWebhookEvent(trx, accountId, "principal.role_changed", {
        ...principalData({ ...row, role: newRole, permission_preset: "" }),
        previousRole: row.role,
      });
    }
    return { userId: row.id, previousRole: row.role };
  });
}
