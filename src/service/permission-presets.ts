/**
 * @module Permission presets (docs/roles.md, "Custom roles"): the actions of Fireworks' `custom` role. A
 * preset (`accounts/{a}/permissionPresets/{p}`) is a display name and a set of action names of the
 * public vocabulary (`domain/actions.ts`), never more than admin's; admins manage them. A user or
 * service account with role `custom` holds exactly its preset's actions, checked by `authorize`
 * like any role. An edit takes effect on the next request of every holder, on every process (the
 * holders' cached keys are invalidated like a role change); a preset in use is not deleted.
 */
import { randomBytes } from "node:crypto";
import { ACTION_NAMES, can, isAction, overOthers } from "../domain/actions.ts";
import { failedPrecondition, invalidArgument, notFound } from "../domain/errors.ts";
import { checkId } from "../domain/ids.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import type { Principal } from "../domain/principal.ts";
import { collectionName, idFromName, permissionPresetName } from "../domain/resource-names.ts";
import { CUSTOM_ROLE } from "../domain/roles.ts";
import { formatTimestamp } from "../domain/time.ts";
import { lockAccount } from "../store/accounts.ts";
import * as keys from "../store/api-keys.ts";
import * as presets from "../store/permission-presets.ts";
import type { PermissionPresetRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize, requireHoldsAll, requireNoActionsGained, roleHolds } from "./permissions.ts";
import { createWithinQuota } from "./quotas.ts";
import { enqueueWebhookEvent, principalData } from "./webhook-events.ts";
import type { ListRequest } from "../store/list.ts";
import type { PermissionPreset } from "../http/resources/permission-preset.ts";

export type { PermissionPreset };

export interface PermissionPresetInput {
  displayName?: string | undefined;
  actions?: string[] | undefined;
}

function presetView(row: PermissionPresetRow): PermissionPreset {
  return {
    name: permissionPresetName(row.account_id, row.id),
    displayName: row.display_name,
    actions: JSON.parse(row.actions) as string[],
    createTime: formatTimestamp(row.create_time),
    updateTime: formatTimestamp(row.update_time),
  };
}

/**
 * A preset's actions: at least one, each a name of the vocabulary that admin holds (admin holds
 * every action, so "never more than admin's" is "only names of the vocabulary"); returned sorted,
 * without repeats, as a JSON array.
 * @throws INVALID_ARGUMENT naming every unknown name.
 */
function checkActions(ctx: Ctx, actions: string[]): string {
  const unknown = actions.filter((a) => !isAction(a) || !can("admin", a));
  if (unknown.length > 0) {
    throw invalidArgument(
      `unknown action ${unknown.map((a) => JSON.stringify(a)).join(", ")} in actions: use names of the action vocabulary, e.g. ${ACTION_NAMES[0]}`,
    );
  }
  if (actions.length === 0) throw invalidArgument("actions must name at least one action");
  requireHoldsAll(ctx, actions, "grant actions it does not hold");
  return JSON.stringify([...new Set(actions)].sort());
}

async function getRow(db: Db, accountId: string, id: string): Promise<PermissionPresetRow> {
  const row = await presets.getPermissionPreset(db, accountId, id);
  if (!row) throw notFound(`permission preset "${id}" not found`);
  return row;
}

/**
 * The preset id a user with role `custom` is given: an existing preset of the account, named by
 * its id (`p2`) or its full resource name (`accounts/my-account/permissionPresets/p2`, AIP-122).
 * Another account's preset is refused by its name, never looked up (see `idFromName`).
 * @throws INVALID_ARGUMENT when `preset` is empty, names another account's preset, is neither an
 * id nor a preset's name, or names no preset of the account.
 */
export async function presetToHold(db: Db, accountId: string, preset: string | undefined): Promise<string> {
  if (!preset) throw invalidArgument(`role "${CUSTOM_ROLE}" needs a permissionPreset: the id of one of the account's permission presets`);
  const id = idFromName(preset, collectionName(accountId, "permissionPresets"), "permissionPreset");
  if (!(await presets.getPermissionPreset(db, accountId, id))) throw invalidArgument(`permissionPreset "${id}" not found: create it first`);
  return id;
}

/** How a refusal names a role: `role "admin"`, or `permission preset "p"` for role `custom` with preset `p`. */
export const roleLabel = (role: string, presetId: string): string => (role === CUSTOM_ROLE ? `permission preset "${presetId}"` : `role "${role}"`);

/**
 * Checks that the caller holds every action of `role` (with `presetId` for role `custom`) before
 * it gives that role, or changes or deletes a principal with it
 * (`requireHoldsAll`: no escalation, and nobody acts on a principal above them, as Kubernetes
 * RBAC's escalation rule).
 * @param verb how the refusal names the act: `give` (default) or e.g. `change or delete a principal with`.
 * @throws PERMISSION_DENIED naming the actions the caller lacks.
 */
export async function requireGrantable(db: Db, ctx: Ctx, accountId: string, role: string, presetId: string, verb = "give"): Promise<void> {
  const what = `${verb} ${roleLabel(role, presetId)}`;
  requireHoldsAll(ctx, await roleActions(db, accountId, role, presetId), what);
}

/**
 * Changing, disabling, enabling, rotating or deleting another principal's API key is acting on
 * that principal, as signing it out is: refused (`requireGrantable`) when `owner` holds actions the
 * caller does not, so that a custom role holding `apiKeys.deleteOthers` or `.updateOthers` cannot
 * take an admin's keys away or lock them to a network. Its own keys (`owner` is the caller) pass.
 * @param act the act the refusal names: `cannot disable the API keys of a principal with role "admin"`.
 * @throws PERMISSION_DENIED naming the actions the caller lacks.
 */
export async function requireMayChangeKeysOf(
  db: Db,
  ctx: Ctx,
  owner: { account_id: string; id: string; role: string; permission_preset: string },
  act: "change" | "disable" | "enable" | "rotate" | "delete",
): Promise<void> {
  if (owner.id === ctx.principal.userId) return;
  await requireGrantable(db, ctx, owner.account_id, owner.role, owner.permission_preset, `${act} the API keys of a principal with`);
}

/**
 * Checks that the caller may act as `owner` (another principal of the account) through an API key
 * of it that carries no scopes: such a key holds every action of the owner's role, and what is the
 * owner's own there (its keys, its audit entries, what it created) is another's to the caller, so
 * the caller must hold each of those actions over others' (`overOthers`: `datasets.manageOwn` as
 * `datasets.manageOthers`, `apiKeys.delete` as `apiKeys.deleteOthers`, …) — otherwise minting a
 * service account a key would reach its resources, which the caller may not touch itself.
 * @throws PERMISSION_DENIED naming the actions the caller lacks.
 */
export async function requireMayActAs(db: Db, ctx: Ctx, owner: { account_id: string; id: string; role: string; permission_preset: string }): Promise<void> {
  const actions = await roleActions(db, owner.account_id, owner.role, owner.permission_preset);
  const what = roleLabel(owner.role, owner.permission_preset);
  requireHoldsAll(ctx, new Set(actions.map(overOthers)), `act as "${owner.id}" (${what}) through an API key of it`);
}

/** The actions with which a principal obtains a service account's unscoped key: a new one, or a rotated one's successor. */
const KEY_MINTING = ["apiKeys.createForServiceAccount", "apiKeys.rotateForServiceAccount"] as const;

/**
 * The new actions of service account `sa` (a role given to it, or its preset edited), given by a
 * caller whose role may obtain its keys (`KEY_MINTING`): a key it minted already acts with them, so
 * they must be actions it could mint a key for now (`requireMayActAs`), or it could lower the
 * account's role, mint it an unscoped key, and raise the role again. The caller's role decides,
 * not the scopes of the key it acts through: a key scoped without `KEY_MINTING` would otherwise
 * raise the role again after another credential of the same principal minted the key. Only the
 * actions gained count (`after` less `before`): a role sent back unchanged, or narrowed, passes.
 * Others pass.
 * @throws PERMISSION_DENIED naming the actions over others' things the caller lacks.
 */
export function requireMayGiveServiceAccount(
  ctx: Ctx,
  sa: { id: string; service_account: number },
  before: readonly string[],
  after: readonly string[],
  what: string,
): void {
  if (sa.service_account !== 1 || !KEY_MINTING.some((a) => roleHolds(ctx.principal, a))) return;
  const held = new Set(before);
  requireHoldsAll(ctx, new Set(after.filter((a) => !held.has(a)).map(overOthers)), `give service account "${sa.id}", whose keys it may mint, ${what}`);
}

/**
 * The action names a principal with `role` holds (with `presetId` for role `custom`: its preset's
 * actions, read now; none when the preset is gone).
 */
export async function roleActions(db: Db, accountId: string, role: string, presetId: string): Promise<string[]> {
  if (role !== CUSTOM_ROLE) return ACTION_NAMES.filter((a) => can(role, a));
  const row = await presets.getPermissionPreset(db, accountId, presetId);
  return row ? (JSON.parse(row.actions) as string[]) : [];
}

/**
 * A principal with role `custom`, completed with its preset's actions (read now: a session or an
 * identity provider's token is resolved on every request, an API key on a cache miss). Other
 * principals, and one already completed, are returned as they are. A preset that is gone grants nothing.
 */
export async function withPresetActions(db: Db, principal: Principal): Promise<Principal> {
  if (principal.role !== CUSTOM_ROLE || principal.permissionPreset) return principal;
  const held = await presets.heldPresetActions(db, principal.accountId, principal.userId);
  const permissionPreset = { id: held?.id ?? "", actions: new Set(held ? (JSON.parse(held.actions) as string[]) : []) };
  return Object.freeze({ ...principal, permissionPreset });
}

/** Creates a preset; without `requestedId` its id is generated (`preset-` and 8 hex digits). */
export async function createPermissionPreset(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  requestedId: string | undefined,
  input: PermissionPresetInput,
): Promise<PermissionPreset> {
  const id = requestedId ?? `preset-${randomBytes(4).toString("hex")}`;
  const op = { method: "CreatePermissionPreset", resource: permissionPresetName(accountId, id), payload: input };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "permissionPresets.create");
    checkId(id, "permissionPresetId");
    const now = Date.now();
    const row: PermissionPresetRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName?.trim() || id),
      actions: checkActions(ctx, input.actions ?? []),
      create_time: now,
      update_time: now,
    };
    await createWithinQuota(deps, trx, accountId, "permission-presets", () => presets.insertPermissionPreset(trx, row));
    return presetView(row);
  });
}

export async function getPermissionPreset(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<PermissionPreset> {
  return auditRefusals(ctx, { method: "GetPermissionPreset", resource: permissionPresetName(accountId, id) }, async () => {
    authorize(ctx, "permissionPresets.get");
    return presetView(await getRow(deps.store.db, accountId, id));
  });
}

/** ListPermissionPresets: one page (AIP-158) of the account's presets matching `req.filter` (AIP-160). */
export async function listPermissionPresets(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  req: ListRequest,
): Promise<{ permissionPresets: PermissionPreset[]; nextPageToken: string; totalSize: number }> {
  return auditRefusals(ctx, { method: "ListPermissionPresets", resource: collectionName(accountId, "permissionPresets") }, async () => {
    authorize(ctx, "permissionPresets.list");
    const page = await presets.listPermissionPresetPage(deps.store.db, accountId, req);
    return { permissionPresets: page.rows.map(presetView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/**
 * Whether a principal gaining actions would shed the limits of a restricted API key that gave them
 * (docs/key-policies.md): a human would, through its sessions; a service account, which acts only
 * through API keys, only when it has one that works or could work again (keys made through the
 * restricted key inherit its limits).
 */
export async function shedsKeyLimits(db: Db, accountId: string, principal: { id: string; service_account: number }, now: number): Promise<boolean> {
  return principal.service_account !== 1 || (await keys.hasUnexpiredApiKey(db, accountId, principal.id, now));
}

/**
 * Updates a preset; every holder's next request (any process) is checked against the new actions.
 * A change of `actions` changes the role of everyone holding the preset, so, as for a role change
 * (`requireGrantable`), the editor must hold every action the preset holds now as well as every one
 * it is given (Kubernetes RBAC's escalation rule): otherwise an editor could strip a more powerful
 * holder of its actions, or narrow a service account's preset to within its own and then mint that
 * account a key.
 * @throws PERMISSION_DENIED naming the actions the editor does not hold.
 */
export async function updatePermissionPreset(deps: Deps, ctx: Ctx, accountId: string, id: string, input: PermissionPresetInput): Promise<PermissionPreset> {
  const op = { method: "UpdatePermissionPreset", resource: permissionPresetName(accountId, id), payload: input };
  let holders: string[] = [];
  const view = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "permissionPresets.update");
    await lockAccount(deps.store, trx, accountId);
    const row = await getRow(trx, accountId, id);
    const previous = JSON.parse(row.actions) as string[];
    const patch: presets.PermissionPresetPatch = { update_time: Date.now() };
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName.trim() || id);
    if (input.actions !== undefined) {
      requireHoldsAll(ctx, previous, `change permission preset "${id}"`);
      patch.actions = checkActions(ctx, input.actions);
    }
    const actions = patch.actions === undefined ? undefined : (JSON.parse(patch.actions) as string[]);
    // An edit gives its holders the new actions: checked for each before anything is written.
    const holding = await presets.presetHolders(trx, accountId, id);
    if (actions !== undefined && holding.length > 0) {
      if (ctx.principal.restrictions !== undefined) {
        const shedding: presets.PresetHolder[] = [];
        for (const holder of holding) if (await shedsKeyLimits(trx, accountId, holder, deps.clock.now())) shedding.push(holder);
        const who = shedding.length === 1 ? "the principal holding it" : `the ${shedding.length} principals holding it`;
        if (shedding.length > 0) requireNoActionsGained(ctx, previous, actions, `permission preset "${id}"`, who);
      }
      for (const holder of holding) requireMayGiveServiceAccount(ctx, holder, previous, actions, `permission preset "${id}"`);
    }
    await presets.updatePermissionPreset(trx, accountId, id, patch);
    holders = holding.map((h) => h.id);
    // What its holders may do changed: for each, as for a change of role (docs/webhooks.md).
    if (actions !== undefined && patch.actions !== row.actions) {
      const change = { previousRole: CUSTOM_ROLE, previousActions: previous, actions };
      for (const holder of holding) await enqueueWebhookEvent(trx, accountId, "principal.role_changed", { ...principalData(holder), ...change });
    }
    return presetView({ ...row, ...patch });
  });
  // After the commit, before the response: as for a role change, the holders' keys are looked up afresh.
  for (const userId of holders) await deps.cluster.invalidator.user(accountId, userId);
  return view;
}

/**
 * Deletes a preset that no user or service account holds.
 * @throws FAILED_PRECONDITION naming how many principals hold it.
 */
export async function deletePermissionPreset(deps: Deps, ctx: Ctx, accountId: string, id: string): Promise<void> {
  const op = { method: "DeletePermissionPreset", resource: permissionPresetName(accountId, id) };
  await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "permissionPresets.delete");
    await lockAccount(deps.store, trx, accountId);
    await getRow(trx, accountId, id);
    const holders = await presets.presetHolders(trx, accountId, id);
    if (holders.length > 0) {
      const who = holders.length === 1 ? "1 principal holds it" : `${holders.length} principals hold it`;
      throw failedPrecondition(`permission preset "${id}" is in use: ${who} (role "custom"); give them another role or preset first`);
    }
    await presets.deletePermissionPreset(trx, accountId, id);
  });
}
