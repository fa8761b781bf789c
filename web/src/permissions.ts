/**
 * @module The console shows only what the principal may do: the actions `GET /auth/session` reports it
 * holds (its role's row of the table in docs/roles.md, or its permission preset), named by
 * the vocabulary the server enforces, imported, not copied. The server still decides every request.
 */
import type { Action } from "../../src/domain/actions.ts";
import { CUSTOM_ROLE, ROLES, type PrincipalRole, type Role } from "../../src/domain/roles.ts";

export { CUSTOM_ROLE, ROLES, type Action, type PrincipalRole, type Role };

export const ROLE_SUMMARY: Readonly<Record<PrincipalRole, string>> = {
  "inference-user": "Runs inference and views resources; manages its own API keys.",
  contributor: "Also creates resources, and edits or deletes the ones it created.",
  user: "Also edits or deletes resources that others created. The default.",
  admin: "Everything: users, service accounts, roles, keys, quotas and identity providers.",
  custom: "Exactly the actions of a permission preset; never counts as an admin.",
};
