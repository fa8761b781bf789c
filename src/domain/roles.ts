/**
 * @module The built-in roles, and who owns a resource (`isCreator`). What each role may do is the
 * action table in `actions.ts`.
 */
export const ROLES = ["inference-user", "contributor", "user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/**
 * Fireworks' fifth role: a principal with role `custom` holds exactly the actions of its
 * permission preset (`accounts/{a}/permissionPresets/{p}`, see `service/permission-presets.ts`).
 * It is never an admin for the last-admin rule, whatever its preset holds.
 */
export const CUSTOM_ROLE = "custom";

/** The role a principal may have: a built-in role, or `custom` with a permission preset. */
export type PrincipalRole = Role | typeof CUSTOM_ROLE;

/**
 * Whether the principal with uid `principalUid` created a resource whose creator uid is
 * `creatorUid`: then a `*.manageOwn` action applies to it, else `*.manageOthers`. Ownership
 * compares uids (AIP-148: system-assigned, never reused), never emails or user ids: a principal
 * deleted and re-created under the same email or id is a new principal and inherits nothing of its
 * namesake's, as Google Cloud documents for re-created service accounts. An empty `creatorUid` (a
 * resource stored before uids whose creator could not be told apart) is nobody's own.
 */
export function isCreator(principalUid: string, creatorUid: string): boolean {
  return creatorUid !== "" && creatorUid === principalUid;
}
