/**
 * @module The one permission check of the services, and the tenancy rule. A service picks the
 * action from the vocabulary in `domain/actions.ts` (from the target where ownership matters: its
 * own key or a service account's, a model it created or another's) and calls `authorize`.
 */
import { notFound, permissionDenied } from "../domain/errors.ts";
import { can, describeAction, type Action } from "../domain/actions.ts";
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
 * Nothing crosses accounts: another account's resources do not exist for this principal.
 * @throws NOT_FOUND naming the account when it is not the principal's own.
 */
export function requireSameAccount(principal: Principal, accountId: string): void {
  if (principal.accountId !== accountId) throw notFound(`account "${accountId}" not found`);
}
