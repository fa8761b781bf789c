import { manageAction } from "../domain/roles.ts";
import type { Principal } from "./context.ts";
import { require } from "./permissions.ts";

/**
 * The SPEC §2 rules for what keys act on (models, deployments, datasets): every role views, an
 * inference-user creates nothing, a contributor manages only what it created (`createdBy`), user
 * and admin manage everything.
 */
export function requireView(principal: Principal, noun: string): void {
  require(principal, "resources.view", `view ${noun}`);
}

export function requireCreate(principal: Principal, noun: string): void {
  require(principal, "resources.create", `create ${noun}`);
}

/** `verb` and `noun` shape the refusal, e.g. "role "contributor" cannot delete deployments created by others". */
export function requireManage(principal: Principal, createdBy: string, verb: string, noun: string): void {
  const action = manageAction(principal.email, createdBy);
  require(principal, action, action === "resources.manageOwn" ? `${verb} ${noun}` : `${verb} ${noun} created by others`);
}
