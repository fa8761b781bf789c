/**
 * @module The console shows only what a role may do, from the same permission table the server enforces
 * (README, Roles and actions): one table, imported, not a second copy. The server still decides every request.
 */
import { can, type Action } from "../../src/domain/actions.ts";
import { CUSTOM_ROLE, ROLES, type PrincipalRole, type Role } from "../../src/domain/roles.ts";

export { can, CUSTOM_ROLE, ROLES, type Action, type PrincipalRole, type Role };

export const ROLE_SUMMARY: Readonly<Record<PrincipalRole, string>> = {
  "inference-user": "Runs inference and views resources; manages its own API keys.",
  contributor: "Also creates resources, and edits or deletes the ones it created.",
  user: "Also edits or deletes resources that others created. The default.",
  admin: "Everything: users, service accounts, roles, keys, quotas and identity providers.",
  custom: "Exactly the actions of a permission preset; never counts as an admin.",
};
