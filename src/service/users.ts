import { invalidArgument, notFound } from "../domain/errors.ts";
import { atUsageTime } from "./usage-time.ts";
import { checkEmail, checkId, idFromEmail, serviceAccountEmail } from "../domain/ids.ts";
import { checkDisplayName, checkField, FIELD_RULES } from "../domain/field-rules.ts";
import { CUSTOM_ROLE, ROLES, type PrincipalRole, type Role } from "../domain/roles.ts";
import { collectionName, identityProviderName, userName } from "../domain/resource-names.ts";
import { formatTimestamp } from "../domain/time.ts";
import { lockAccount } from "../store/accounts.ts";
import { listUserBindings } from "../store/identity-bindings.ts";
import * as users from "../store/users.ts";
import { userActivity, type UserActivity } from "../store/user-activity.ts";
import type { Db } from "../store/store.ts";
import type { UserRow } from "../store/schema.ts";
import type { ListRequest } from "../store/list.ts";
import { keepAnActingAdmin } from "./acting-admins.ts";
import { serviceAccountDomain } from "./accounts.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { presetToHold, requireGrantable, requireMayGiveServiceAccount, roleActions, roleLabel, shedsKeyLimits } from "./permission-presets.ts";
import { authorize, requireNoActionsGained, requireUnrestrictedKey } from "./permissions.ts";
import { createWithinQuota } from "./quotas.ts";
import { userView, type User } from "./views.ts";
import type { IdentityBinding } from "../http/resources/user.ts";
import { enqueueWebhookEvent, principalData } from "./webhook-events.ts";

export interface CreateUserInput {
  userId?: string | undefined;
  displayName?: string | undefined;
  email?: string | undefined;
  role?: string | undefined;
  /** With role `custom` (implied when only this is given): a permission preset of the account, by id or full name. */
  permissionPreset?: string | undefined;
  serviceAccount?: boolean | undefined;
}

export interface UpdateUserInput {
  displayName?: string | undefined;
  role?: string | undefined;
  permissionPreset?: string | undefined;
}

/**
 * Fields of a User that never change (AIP-203 IMMUTABLE): a PATCH may send them back unchanged (as
 * Fireworks' SDK does with every update); a different value is refused.
 */
export interface UserImmutableFields {
  email?: string | undefined;
  serviceAccount?: boolean | undefined;
}

/** @throws INVALID_ARGUMENT naming the first immutable field whose given value differs from the stored one. */
function checkImmutable(row: UserRow, given: UserImmutableFields): void {
  if (given.email !== undefined && given.email !== row.email)
    throw invalidArgument(`field "email" is immutable: it cannot be changed from ${JSON.stringify(row.email)}`);
  if (given.serviceAccount !== undefined && given.serviceAccount !== (row.service_account === 1))
    throw invalidArgument(`field "serviceAccount" is immutable: it cannot be changed from ${row.service_account === 1}`);
}

/** A built-in role named where no preset can go with it (JIT provisioning, the operator's set-role): one of ROLES. */
export function checkRole(role: string): Role {
  return checkField(FIELD_RULES.builtInRole, "role", role) as Role;
}

/** How a refusal names changing the role of, or deleting, a principal who holds actions the caller does not. */
const ABOVE = "change the role of, or delete, a principal with";

/**
 * The role and preset a user is given: `custom` needs an existing preset of the account (a preset
 * alone implies `custom`, as firectl's --permission-preset does in Fireworks); a built-in role
 * holds none. `current` is the stored pair, kept where the request names neither.
 * @throws INVALID_ARGUMENT naming the role or preset.
 */
async function roleAndPreset(
  db: Db,
  ctx: Ctx,
  accountId: string,
  input: { role?: string | undefined; permissionPreset?: string | undefined },
  current: { role: string; permission_preset: string },
): Promise<{ role: PrincipalRole; permission_preset: string }> {
  const role = checkField(FIELD_RULES.role, "role", input.role ?? (input.permissionPreset ? CUSTOM_ROLE : current.role)) as PrincipalRole;
  if (role !== CUSTOM_ROLE) {
    if (input.permissionPreset) throw invalidArgument(`permissionPreset goes only with role "${CUSTOM_ROLE}", not "${role}"`);
    await requireGrantable(db, ctx, accountId, role, "");
    return { role, permission_preset: "" };
  }
  const preset = input.permissionPreset ?? (current.role === CUSTOM_ROLE ? current.permission_preset : "");
  const permission_preset = await presetToHold(db, accountId, preset);
  await requireGrantable(db, ctx, accountId, role, permission_preset);
  return { role, permission_preset };
}

/** A human's binding to an identity provider's subject (read-only; made at the first allowed sign-in), as `/openapi.json` declares it. */
export type { IdentityBinding };

/** The user's bindings, as shown on the User resource (`identityBindings`). */
async function identityBindingsOf(db: Db, accountId: string, userId: string): Promise<IdentityBinding[]> {
  const rows = await listUserBindings(db, accountId, userId);
  return rows.map((r) => ({
    identityProvider: identityProviderName(r.account_id, r.identity_provider_id),
    issuer: r.issuer,
    subject: r.subject,
    createTime: formatTimestamp(r.create_time),
  }));
}

export async function getUserRow(db: Db, accountId: string, userId: string): Promise<UserRow> {
  const row = await users.getUser(db, accountId, userId);
  if (!row) throw notFound(`user "${userId}" not found`);
  return row;
}

export async function createUser(deps: Deps, ctx: Ctx, accountId: string, input: CreateUserInput): Promise<User> {
  const serviceAccount = input.serviceAccount === true;
  const resource = userName(accountId, input.userId ?? (input.email ? idFromEmail(input.email) : ""));
  const op = { method: "CreateUser", resource, payload: input };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "users.create");
    let userId: string;
    let email: string;
    if (serviceAccount) {
      if (!input.userId) throw invalidArgument("userId is required for a service account");
      userId = checkId(input.userId, "userId");
      email = serviceAccountEmail(userId, accountId, await serviceAccountDomain(deps, trx, accountId));
      if (input.email && input.email.toLowerCase() !== email) {
        throw invalidArgument(`a service account's email is generated (${email}); omit email`);
      }
    } else {
      if (!input.email) throw invalidArgument("email is required for a human user");
      email = checkEmail(input.email);
      userId = input.userId ? checkId(input.userId, "userId") : idFromEmail(email);
      // A service account acts only through keys, and one made through this key inherits its
      // restrictions; a human signs in without them.
      requireUnrestrictedKey(ctx, `create human user "${userId}"`, "its sessions");
    }
    if (!serviceAccount && !input.role && !input.permissionPreset) throw invalidArgument("role is required: use one of " + ROLES.join(", "));
    // Locked so that a preset given here cannot be deleted before the user is stored.
    if (input.permissionPreset || input.role === CUSTOM_ROLE) await lockAccount(deps.store, trx, accountId);
    const { role, permission_preset } = await roleAndPreset(trx, ctx, accountId, input, { role: "user", permission_preset: "" });
    const displayName = checkDisplayName(input.displayName ?? "");
    const now = Date.now();
    const fields: Omit<UserRow, "uid"> = {
      account_id: accountId,
      id: userId,
      display_name: displayName,
      email,
      role,
      permission_preset,
      service_account: serviceAccount ? 1 : 0,
      state: "READY",
      create_time: now,
      update_time: now,
    };
    const created = await createWithinQuota(deps, trx, accountId, serviceAccount ? "service-accounts" : "users", () => users.insertUser(trx, fields));
    await enqueueWebhookEvent(trx, accountId, "principal.created", principalData(created));
    return userView(created);
  });
}

/** A user with its key count and last activity (`apiKeyCount`, `lastActiveTime`), as get and list answer. */
function withActivity(user: User, activity: UserActivity | undefined): User {
  if (!activity) return user;
  return { ...user, apiKeyCount: activity.apiKeyCount, ...(activity.lastActive !== undefined && { lastActiveTime: formatTimestamp(activity.lastActive) }) };
}

/** The whole User resource of `row`, as GetUser, UpdateUser and UnbindIdentity answer it: with `apiKeyCount`, `lastActiveTime` and `identityBindings` (AIP-134: an update returns the resource). */
export async function userResource(db: Db, row: UserRow): Promise<User & { identityBindings: IdentityBinding[] }> {
  const activity = await userActivity(db, row.account_id, [row.id]);
  return { ...withActivity(userView(row), activity.get(row.id)), identityBindings: await identityBindingsOf(db, row.account_id, row.id) };
}

/** One user; also its read-only `identityBindings` (the identity-provider subjects it signs in as). */
export async function getUser(deps: Deps, ctx: Ctx, accountId: string, userId: string): Promise<User & { identityBindings: IdentityBinding[] }> {
  const op = { method: "GetUser", resource: userName(accountId, userId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "users.get");
    return userResource(deps.store.db, await getUserRow(deps.store.db, accountId, userId));
  });
}

export async function listUsers(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListUsers", resource: collectionName(accountId, "users") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "users.list");
    const page = await users.listUsers(deps.store.db, accountId, await atUsageTime(deps, req));
    const activity = await userActivity(
      deps.store.db,
      accountId,
      page.rows.map((r) => r.id),
    );
    return { users: page.rows.map((r) => withActivity(userView(r), activity.get(r.id))), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

export async function updateUser(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  userId: string,
  input: UpdateUserInput,
  immutable: UserImmutableFields = {},
): Promise<User & { identityBindings: IdentityBinding[] }> {
  const op = { method: "UpdateUser", resource: userName(accountId, userId), payload: input };
  const user = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "users.update");
    // Locked before the row is read, so an update racing the user's deletion is NOT_FOUND rather
    // than a success (and an audit entry) for a row that is no longer there.
    await lockAccount(deps.store, trx, accountId);
    const row = await getUserRow(trx, accountId, userId);
    checkImmutable(row, immutable);
    const patch: users.UserPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName);
    if (input.role !== undefined || input.permissionPreset !== undefined) {
      await requireGrantable(trx, ctx, accountId, row.role, row.permission_preset, ABOVE);
      const next = await roleAndPreset(trx, ctx, accountId, input, row);
      const before = await roleActions(trx, accountId, row.role, row.permission_preset);
      const after = await roleActions(trx, accountId, next.role, next.permission_preset);
      requireMayGiveServiceAccount(ctx, row, before, after, roleLabel(next.role, next.permission_preset));
      // A service account without an API key sheds nothing, as when the key creates it with that role.
      if (ctx.principal.restrictions !== undefined && (await shedsKeyLimits(trx, accountId, row, deps.clock.now()))) {
        const whom = `${row.service_account === 1 ? "service account" : "user"} "${userId}"`;
        requireNoActionsGained(ctx, before, after, whom, row.service_account === 1 ? "its existing API keys" : "its sessions and API keys");
      }
      patch.role = next.role;
      patch.permission_preset = next.permission_preset;
      await keepAnActingAdmin(trx, row, patch.role);
    }
    const updated: UserRow = { ...row, ...patch, update_time: Date.now() };
    await users.updateUser(trx, accountId, userId, { ...patch, update_time: updated.update_time });
    if (updated.role !== row.role || updated.permission_preset !== row.permission_preset) {
      await enqueueWebhookEvent(trx, accountId, "principal.role_changed", { ...principalData(updated), previousRole: row.role });
    }
    return userResource(trx, updated);
  });
  // After the commit, before the response: the next request with any of its keys sees the new role.
  if (input.role !== undefined || input.permissionPreset !== undefined) await deps.cluster.invalidator.user(accountId, userId);
  return user;
}

/** Deletes a user or service account; all its API keys are revoked in the same transaction. */
export async function deleteUser(deps: Deps, ctx: Ctx, accountId: string, userId: string): Promise<void> {
  const op = { method: "DeleteUser", resource: userName(accountId, userId) };
  await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "users.delete");
    // Locked before the row is read, as updateUser does: a role change committing in between would
    // otherwise be judged on the role read before it (a principal promoted above the caller deleted).
    await lockAccount(deps.store, trx, accountId);
    const row = await getUserRow(trx, accountId, userId);
    await requireGrantable(trx, ctx, accountId, row.role, row.permission_preset, ABOVE);
    await keepAnActingAdmin(trx, row, null);
    await users.deleteUser(trx, accountId, userId, deps.clock.now());
    await enqueueWebhookEvent(trx, accountId, "principal.deleted", principalData(row));
  });
  await deps.cluster.invalidator.user(accountId, userId);
}
