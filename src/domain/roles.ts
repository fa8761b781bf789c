/**
 * @module The built-in roles. What each one may do is the action table in `actions.ts`.
 */
export const ROLES = ["inference-user", "contributor", "user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
