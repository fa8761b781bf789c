/**
 * @module The one permission check of the services, and the tenancy rule. A service picks the
 * action from the vocabulary in `domain/actions.ts` (from the target where ownership matters: its
 * own key or a service account's, a model it created or another's) and calls `authorize`.
 */
import { notFound, permissionDenied } from "../domain/errors.ts";
import { can, describeAction, isAction, type Action } from "../domain/actions.ts";
import type { Principal } from "../domain/principal.ts";
import { CUSTOM_ROLE } from "../domain/roles.ts";
import type { Ctx } from "./context.ts";

/**
 * Whether `principal` holds `action`: its built-in role's row of the matrix, or for role `custom`
 * exactly the actions of its permission preset (none when the preset could not be read).
 */
export function holds(principal: Principal, action: Action): boolean {
  if (principal.role === CUSTOM_ROLE) return principal.permissionPreset?.actions.has(action) ?? false;
  return can(principal.role, action);
}

/**
 * Checks that the caller's role holds `action`, and records the action on `ctx` (checked or refused)
 * so that the operation's audit entry is marked `isAdminAction` when the action is an admin action.
 * @param what completes the refusal "role X cannot …"; default the action's description.
 * @throws PERMISSION_DENIED naming the caller's role (and a custom role's preset) when it does not hold `action`.
 */
export function authorize(ctx: Ctx, action: Action, what: string = describeAction(action)): void {
  ctx.checked.push(action);
  if (holds(ctx.principal, action)) return;
  const preset = ctx.principal.role === CUSTOM_ROLE ? ` (permission preset "${ctx.principal.permissionPreset?.id ?? ""}")` : "";
  throw permissionDenied(`role "${ctx.principal.role}"${preset} cannot ${what}`);
}

/**
 * No escalation, the rule of Kubernetes RBAC ("Privilege escalation prevention"): a principal
 * grants (a role, a preset's actions) or acts as (a service account's key) only actions it holds
 * itself, so a custom role holding `users.update` or `permissionPresets.update` cannot make itself
 * or anyone an admin. An admin holds every action, so this never refuses one.
 * @param actions action names (unknown names are ignored: they grant nothing).
 * @param what completes the refusal "role X cannot …", e.g. `give role "admin"`.
 * @throws PERMISSION_DENIED naming the actions the caller lacks.
 */
export function requireHoldsAll(ctx: Ctx, actions: Iterable<string>, what: string): void {
  const missing = [...actions].filter((a) => isAction(a) && !holds(ctx.principal, a));
  if (missing.length === 0) return;
  const preset = ctx.principal.role === CUSTOM_ROLE ? ` (permission preset "${ctx.principal.permissionPreset?.id ?? ""}")` : "";
  throw permissionDenied(`role "${ctx.principal.role}"${preset} cannot ${what}: it does not hold ${missing.join(", ")}`);
}

/**
 * Nothing crosses accounts: another account's resources do not exist for this principal.
 * @throws NOT_FOUND naming the account when it is not the principal's own.
 */
export function requireSameAccount(principal: Principal, accountId: string): void {
  if (principal.accountId !== accountId) throw notFound(`account "${accountId}" not found`);
}
