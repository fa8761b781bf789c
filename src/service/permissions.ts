/**
 * @module The one permission check of the services, and the tenancy rule. A service picks the
 * action from the vocabulary in `domain/actions.ts` (from the target where ownership matters: its
 * own key or a service account's, a model it created or another's) and calls `authorize`.
 */
import { notFound, permissionDenied } from "../domain/errors.ts";
import { ACTION_NAMES, can, describeAction, isAction, type Action } from "../domain/actions.ts";
import type { Principal } from "../domain/principal.ts";
import { CUSTOM_ROLE } from "../domain/roles.ts";
import type { Ctx } from "./context.ts";

/**
 * Whether `principal` holds `action`: its built-in role's row of the matrix, or for role `custom`
 * exactly the actions of its permission preset (none when the preset could not be read) — and,
 * for a principal acting through an API key with `scopes`, only those among them (a key's
 * effective permissions are its scopes ∩ its owner's current role).
 */
export function holds(principal: Principal, action: Action): boolean {
  return roleHolds(principal, action) && inScopes(principal, action);
}

/** Whether the principal's role (or custom role's preset) holds `action`, whatever its API key's scopes. */
export function roleHolds(principal: Principal, action: Action): boolean {
  if (principal.role === CUSTOM_ROLE) return principal.permissionPreset?.actions.has(action) ?? false;
  return can(principal.role, action);
}

/** How a refusal names the caller's role: `role "user"`, or `role "custom" (permission preset "p")`. */
function roleOf(principal: Principal): string {
  const preset = principal.role === CUSTOM_ROLE ? ` (permission preset "${principal.permissionPreset?.id ?? ""}")` : "";
  return `role "${principal.role}"${preset}`;
}

/** Whether the principal's API key allows `action`: a key without scopes allows what its owner's role does. */
const inScopes = (principal: Principal, action: Action): boolean => principal.restrictions?.scopes?.includes(action) ?? true;

/**
 * Checks that the caller's role holds `action`, and records the action on `ctx` (checked or refused)
 * so that the operation's audit entry is marked `isAdminAction` when the action is an admin action.
 * @param what completes the refusal "role X cannot …"; default the action's description.
 * @throws PERMISSION_DENIED naming the caller's role (and a custom role's preset) when it does not hold `action`,
 *   or naming the scope when the role holds it but the caller's API key's scopes do not include it.
 */
export function authorize(ctx: Ctx, action: Action, what: string = describeAction(action)): void {
  ctx.checked.push(action);
  if (holds(ctx.principal, action)) return;
  if (roleHolds(ctx.principal, action)) throw permissionDenied(`this API key's scopes do not include "${action}", needed to ${what}`);
  throw permissionDenied(`${roleOf(ctx.principal)} cannot ${what}`);
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
  if (missing.every((a) => roleHolds(ctx.principal, a as Action))) {
    throw permissionDenied(`this API key cannot ${what}: its scopes do not include ${missing.join(", ")}`);
  }
  throw permissionDenied(`${roleOf(ctx.principal)} cannot ${what}: it does not hold ${missing.join(", ")}`);
}

/** The restrictions an API key carries besides `scopes`, which no session it made possible would carry. */
const SESSION_FREE_RESTRICTIONS = ["allowedCidrs", "allowedModels", "rpm", "tpm", "monthlySpendUsd"] as const;

/**
 * For an act that gives actions to credentials not made through the caller's API key (a human's
 * sessions and ID tokens, a principal's existing keys, whoever an identity provider signs in):
 * refused through a key carrying `allowedCidrs`, `allowedModels`, `rpm`, `tpm` or `monthlySpendUsd`,
 * since those credentials would not carry them and the key could shed them that way
 * (docs/key-policies.md: a key never does more than the key it acts through). A key's expiry and
 * scopes are not shed this way: scopes are checked by `requireHoldsAll`, and an expiry bounds how
 * long the credential lives, not what its holder may give. Console sessions, ID tokens and keys
 * without those restrictions pass.
 * @param what completes the refusal "this API key cannot …", e.g. `create human user "ann"`.
 * @param shed completes "…, so X would shed the key's allowedCidrs", e.g. `a session signed in through it`.
 * @throws PERMISSION_DENIED naming the restrictions the key carries and why.
 */
export function requireUnrestrictedKey(ctx: Ctx, what: string, shed: string): void {
  const restrictions = ctx.principal.restrictions ?? {};
  const carried = SESSION_FREE_RESTRICTIONS.filter((r) => restrictions[r] !== undefined);
  if (carried.length === 0) return;
  throw permissionDenied(`this API key cannot ${what}, so ${shed} would shed the key's ${carried.join(", ")}; use an unrestricted key or a console session`);
}

/**
 * A change of role (a principal's, or a permission preset's actions) that gives principals actions
 * they do not hold now: refused through a restricted API key (`requireUnrestrictedKey`), since they
 * take those actions with their own sessions and keys, not made through it. A narrowing passes.
 * @param before the action names held now; `after` those held after the change.
 * @param whom how the refusal names who gains them, e.g. `user "ann"`.
 * @param shed who would shed the key's restrictions, e.g. `its sessions and API keys`.
 * @throws PERMISSION_DENIED naming (the first three of) the actions gained and the key's restrictions.
 */
export function requireNoActionsGained(ctx: Ctx, before: Iterable<string>, after: Iterable<string>, whom: string, shed: string): void {
  if (ctx.principal.restrictions === undefined) return;
  const held = new Set(before);
  const gained = [...after].filter((a) => !held.has(a));
  if (gained.length === 0) return;
  const named = gained.length > 3 ? `${gained.slice(0, 3).join(", ")} and ${gained.length - 3} more` : gained.join(", ");
  requireUnrestrictedKey(ctx, `give ${whom} actions it does not hold now (${named})`, shed);
}

/**
 * For an act that lets its author become anyone of the account, admins included (who an identity
 * provider signs in): only a principal holding every action may take it, through an API key whose
 * scopes (if any) hold every action too, and that carries no other restriction
 * (`requireUnrestrictedKey`: a session signed in through the provider it set up would not carry
 * them). The escalation rule of `requireHoldsAll`, without listing the dozens of actions a custom
 * role lacks.
 * @param what completes the refusal "role X cannot …", e.g. `change who identity provider "corp" signs in`.
 * @throws PERMISSION_DENIED naming the caller's role (or its key's scopes or restrictions) and why.
 */
export function requireHoldsEvery(ctx: Ctx, what: string, why: string): void {
  if (ACTION_NAMES.every((a) => holds(ctx.principal, a))) return requireUnrestrictedKey(ctx, `${what}: ${why}`, "a session signed in through it");
  if (ACTION_NAMES.every((a) => roleHolds(ctx.principal, a)))
    throw permissionDenied(`this API key cannot ${what}: ${why}, and its scopes do not hold every action`);
  throw permissionDenied(`${roleOf(ctx.principal)} cannot ${what}: ${why}, so only a principal holding every action (an admin) may`);
}

/**
 * Nothing crosses accounts: another account's resources do not exist for this principal.
 * @throws NOT_FOUND naming the account when it is not the principal's own.
 */
export function requireSameAccount(principal: Principal, accountId: string): void {
  if (principal.accountId !== accountId) throw notFound(`account "${accountId}" not found`);
}
