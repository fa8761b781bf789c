/**
 * Roles and permissions, exactly the documented matrix (SPEC §2), as data.
 * `can()` is the only permission check in Hearth.
 */
export const ROLES = ["inference-user", "contributor", "user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  "inference.run",
  "resources.view",
  "resources.create",
  "resources.manageOwn",
  "resources.manageOthers",
  "apiKeys.manageOwn",
  "principals.view",
  "apiKeys.createForServiceAccount",
  "apiKeys.deleteOthers",
  "principals.manage",
] as const;
export type Action = (typeof ACTIONS)[number];

export const PERMISSIONS: Readonly<Record<Role, ReadonlySet<Action>>> = Object.freeze({
  "inference-user": new Set<Action>(["inference.run", "resources.view", "apiKeys.manageOwn", "principals.view"]),
  contributor: new Set<Action>(["inference.run", "resources.view", "resources.create", "resources.manageOwn", "apiKeys.manageOwn", "principals.view"]),
  user: new Set<Action>([
    "inference.run",
    "resources.view",
    "resources.create",
    "resources.manageOwn",
    "resources.manageOthers",
    "apiKeys.manageOwn",
    "principals.view",
  ]),
  admin: new Set<Action>(ACTIONS),
});

/** Actions that only an admin may take; their audit entries carry `isAdminAction: true`. */
export const ADMIN_ACTIONS: ReadonlySet<Action> = new Set<Action>(["apiKeys.createForServiceAccount", "apiKeys.deleteOthers", "principals.manage"]);

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Pure permission check: may a principal with `role` take `action`? */
export function can(role: Role, action: Action): boolean {
  return PERMISSIONS[role].has(action);
}

/** Which "manage" action applies to a resource, given who created it. */
export function manageAction(principalEmail: string, createdBy: string): Action {
  return principalEmail === createdBy ? "resources.manageOwn" : "resources.manageOthers";
}
