/**
 * @module The console shows only what the principal may do: the actions `GET /auth/session` reports it
 * holds (its role's row of the table in docs/roles.md, or its permission preset), named by
 * the vocabulary the server enforces, imported, not copied. The server still decides every request.
 */
import { ACTION_NAMES, can, describeAction, isAdminAction, type Action } from "../../src/domain/actions.ts";
import { CUSTOM_ROLE, ROLES, type PrincipalRole, type Role } from "../../src/domain/roles.ts";

export { CUSTOM_ROLE, ROLES, describeAction, isAdminAction, type Action, type PrincipalRole, type Role };

/** The vocabulary grouped by what it acts on (the part of each name before the dot), in the table's order. */
export const ACTION_GROUPS: readonly { readonly resource: string; readonly actions: readonly Action[] }[] = (() => {
  const groups = new Map<string, Action[]>();
  for (const action of ACTION_NAMES) {
    const resource = action.slice(0, action.indexOf("."));
    groups.set(resource, [...(groups.get(resource) ?? []), action]);
  }
  return [...groups].map(([resource, actions]) => ({ resource, actions }));
})();

/** The actions built-in `role` holds, in the table's order (what "start from a role" copies into a preset). */
export const actionsOfRole = (role: Role): Action[] => ACTION_NAMES.filter((action) => can(role, action));

export const ROLE_SUMMARY: Readonly<Record<PrincipalRole, string>> = {
  "inference-user": "Runs inference and views resources; manages its own API keys.",
  contributor: "Also creates resources, and edits or deletes the ones it created.",
  user: "Also edits or deletes resources that others created. The default.",
  admin: "Everything: users, service accounts, roles, keys, quotas and identity providers.",
  custom: "Exactly the actions of a permission preset; never counts as an admin.",
};
