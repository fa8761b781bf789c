import assert from "node:assert/strict";
import { test } from "node:test";
import { ACTION_NAMES, can, isAdminAction, type Action } from "./actions.ts";
import { isRole, ROLES, type Role } from "./roles.ts";

const Y = true;
const N = false;

// The documented matrix, written out independently of the table it checks:
// [action, inference-user, contributor, user, admin, admin action]
const MATRIX: Array<[Action, boolean, boolean, boolean, boolean, boolean]> = [
  ["accounts.get", Y, Y, Y, Y, N],
  ["users.list", Y, Y, Y, Y, N],
  ["users.get", Y, Y, Y, Y, N],
  ["users.create", N, N, N, Y, Y],
  ["users.update", N, N, N, Y, Y],
  ["users.delete", N, N, N, Y, Y],
  ["users.unbindIdentity", N, N, N, Y, Y],
  ["users.revokeSessions", N, N, N, Y, Y],
  ["apiKeys.list", Y, Y, Y, Y, N],
  ["apiKeys.get", Y, Y, Y, Y, N],
  ["apiKeys.create", Y, Y, Y, Y, N],
  ["apiKeys.delete", Y, Y, Y, Y, N],
  ["apiKeys.listOthers", N, N, N, Y, Y],
  ["apiKeys.getOthers", N, N, N, Y, Y],
  ["apiKeys.createForServiceAccount", N, N, N, Y, Y],
  ["apiKeys.deleteOthers", N, N, N, Y, Y],
  ["apiKeys.update", Y, Y, Y, Y, N],
  ["apiKeys.updateOthers", N, N, N, Y, Y],
  ["apiKeys.disable", Y, Y, Y, Y, N],
  ["apiKeys.disableOthers", N, N, N, Y, Y],
  ["apiKeys.rotate", Y, Y, Y, Y, N],
  ["apiKeys.rotateForServiceAccount", N, N, N, Y, Y],
  ["auditLogs.list", Y, Y, Y, Y, N],
  ["auditLogs.listAll", N, N, N, Y, Y],
  ["auditSettings.update", N, N, N, Y, Y],
  ["quotas.list", Y, Y, Y, Y, N],
  ["quotas.get", Y, Y, Y, Y, N],
  ["quotas.update", N, N, N, Y, Y],
  ["keyPolicy.get", Y, Y, Y, Y, N],
  ["keyPolicy.update", N, N, N, Y, Y],
  ["identityProviders.list", Y, Y, Y, Y, N],
  ["identityProviders.get", Y, Y, Y, Y, N],
  ["identityProviders.create", N, N, N, Y, Y],
  ["identityProviders.update", N, N, N, Y, Y],
  ["identityProviders.delete", N, N, N, Y, Y],
  ["permissionPresets.list", Y, Y, Y, Y, N],
  ["permissionPresets.get", Y, Y, Y, Y, N],
  ["permissionPresets.create", N, N, N, Y, Y],
  ["permissionPresets.update", N, N, N, Y, Y],
  ["permissionPresets.delete", N, N, N, Y, Y],
  ["webhooks.list", N, N, N, Y, Y],
  ["webhooks.get", N, N, N, Y, Y],
  ["webhooks.create", N, N, N, Y, Y],
  ["webhooks.update", N, N, N, Y, Y],
  ["webhooks.delete", N, N, N, Y, Y],
  ["models.list", Y, Y, Y, Y, N],
  ["models.get", Y, Y, Y, Y, N],
  ["models.create", N, Y, Y, Y, N],
  ["models.manageOwn", N, Y, Y, Y, N],
  ["models.manageOthers", N, N, Y, Y, N],
  ["deployments.list", Y, Y, Y, Y, N],
  ["deployments.get", Y, Y, Y, Y, N],
  ["deployments.create", N, Y, Y, Y, N],
  ["deployments.manageOwn", N, Y, Y, Y, N],
  ["deployments.manageOthers", N, N, Y, Y, N],
  ["datasets.list", Y, Y, Y, Y, N],
  ["datasets.get", Y, Y, Y, Y, N],
  ["datasets.download", Y, Y, Y, Y, N],
  ["datasets.create", N, Y, Y, Y, N],
  ["datasets.manageOwn", N, Y, Y, Y, N],
  ["datasets.manageOthers", N, N, Y, Y, N],
  ["billingUsage.get", Y, Y, Y, Y, N],
  ["inference.run", Y, Y, Y, Y, N],
];

test("the matrix covers every action exactly once", () => {
  assert.deepEqual(
    MATRIX.map((r) => r[0]),
    [...ACTION_NAMES],
  );
  assert.equal(new Set(ACTION_NAMES).size, ACTION_NAMES.length);
});

test("action names are stable dotted lowerCamel names", () => {
  for (const name of ACTION_NAMES) assert.match(name, /^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
});

for (const [action, ...cells] of MATRIX) {
  const adminAction = cells[4];
  for (const [i, role] of (ROLES as readonly Role[]).entries()) {
    test(`${role} ${cells[i] ? "may" : "may not"} ${action}`, () => {
      assert.equal(can(role, action), cells[i]);
    });
  }
  test(`${action} is ${adminAction ? "" : "not "}an admin action`, () => {
    assert.equal(isAdminAction(action), adminAction);
  });
}

test("an admin holds every action; every admin action is held by admins alone", () => {
  assert.ok(ACTION_NAMES.every((action) => can("admin", action)));
  for (const action of ACTION_NAMES.filter(isAdminAction)) {
    assert.deepEqual(
      ROLES.filter((role) => can(role, action)),
      ["admin"],
    );
  }
});

test("isRole accepts only the built-in roles", () => {
  assert.equal(isRole("contributor"), true);
  assert.equal(isRole("custom"), false);
});
