import assert from "node:assert/strict";
import { test } from "node:test";
import { ACTIONS, can, ROLES, type Action, type Role } from "./roles.ts";

// SPEC §2, row by row: [action, inference-user, contributor, user, admin]
const MATRIX: Array<[Action, boolean, boolean, boolean, boolean]> = [
  ["inference.run", true, true, true, true],
  ["resources.view", true, true, true, true],
  ["resources.create", false, true, true, true],
  ["resources.manageOwn", false, true, true, true],
  ["resources.manageOthers", false, false, true, true],
  ["apiKeys.manageOwn", true, true, true, true],
  ["principals.view", true, true, true, true],
  ["apiKeys.createForServiceAccount", false, false, false, true],
  ["apiKeys.deleteOthers", false, false, false, true],
  ["principals.manage", false, false, false, true],
];

test("the matrix covers every action exactly once", () => {
  assert.deepEqual(MATRIX.map((r) => r[0]).sort(), [...ACTIONS].sort());
});

for (const [action, ...allowed] of MATRIX) {
  for (const [i, role] of (ROLES as readonly Role[]).entries()) {
    test(`${role} ${allowed[i] ? "may" : "may not"} ${action}`, () => {
      assert.equal(can(role, action), allowed[i]);
    });
  }
}
