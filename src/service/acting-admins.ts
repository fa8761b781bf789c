/**
 * @module The last-admin rule: an account must keep an admin who can act. A human admin can act
 * (signs in, may hold keys); a service-account admin can act only through a live API key — a
 * key-less one, or one whose keys all expired, is an admin nobody can be. Without this, the only
 * admin could make a key-less service account admin, demote itself, and leave the account with no
 * one able to manage it (only the operator's `hearth user set-role` would help).
 *
 * What is refused, with FAILED_PRECONDITION: demoting or deleting an admin when no other admin can
 * act, and deleting an API key when it is the last live key of the last service-account admin who
 * can act (a human admin, or another acting service account, lets it go). Keys that expire on
 * their own cannot be refused; `hearth user set-role` repairs that case.
 */
import { failedPrecondition } from "../domain/errors.ts";
import { countActingAdmins } from "../store/users.ts";
import type { UserRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";

const WHO_CAN_ACT = "an admin who can act (a human, or a service account with an unexpired API key)";

/**
 * Refuses a role change (`newRole`) or, with null, the deletion of `row` when no other admin of
 * its account could act afterwards. Call inside the change's transaction, after `lockAccount`.
 * @throws FAILED_PRECONDITION naming the user.
 */
export async function keepAnActingAdmin(db: Db, row: UserRow, newRole: string | null, now = Date.now()): Promise<void> {
  if (row.role !== "admin" || newRole === "admin") return;
  if ((await countActingAdmins(db, row.account_id, now, { userId: row.id })) === 0) {
    throw failedPrecondition(`user "${row.id}" is the account's last admin who can act; first make another user ${WHO_CAN_ACT} admin`);
  }
}

/**
 * Refuses deleting API key `keyId` of `owner` when that would leave the account without an admin
 * who can act (the key is the last live one of the only acting admin, a service account).
 * @throws FAILED_PRECONDITION naming the key and its owner.
 */
export async function keepAnActingAdminKey(db: Db, owner: UserRow, keyId: string, now = Date.now()): Promise<void> {
  if (owner.role !== "admin" || owner.service_account !== 1) return;
  if ((await countActingAdmins(db, owner.account_id, now, { keyId })) > 0) return;
  // Nobody could act already (e.g. the key had expired): deleting a dead key changes nothing.
  if ((await countActingAdmins(db, owner.account_id, now)) === 0) return;
  throw failedPrecondition(
    `API key "${keyId}" is the last live key of service account "${owner.id}", the account's last admin who can act; first make another user ${WHO_CAN_ACT} admin`,
  );
}
