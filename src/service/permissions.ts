import { permissionDenied, notFound } from "../domain/errors.ts";
import { can, type Action } from "../domain/roles.ts";
import type { Principal } from "./context.ts";

/** Throws PERMISSION_DENIED naming the principal's role unless it may take `action`. */
export function require(principal: Principal, action: Action, what: string): void {
  if (!can(principal.role, action)) {
    throw permissionDenied(`role "${principal.role}" cannot ${what}`);
  }
}

/** Nothing crosses accounts: another account's resources do not exist for this principal. */
export function requireSameAccount(principal: Principal, accountId: string): void {
  if (principal.accountId !== accountId) throw notFound(`account "${accountId}" not found`);
}
