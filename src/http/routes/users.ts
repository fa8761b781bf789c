import { z } from "zod";
import { unbindIdentity } from "../../service/identity-bindings.ts";
import * as users from "../../service/users.ts";
import type { Router } from "../route.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskQuery } from "../read-mask.ts";
import { FIELD_RULES } from "../../domain/field-rules.ts";
import { accountParams, displayName, listQuery, listRequest, newId, ruled, userParams } from "../schemas.ts";
import { outputOnlyFields } from "../body-fields.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { user, userList, userWithBindings } from "../resources/user.ts";

/** A user's fields, for `readMask` (AIP-157). */
const USER_FIELDS = fieldNames<Awaited<ReturnType<typeof users.getUser>>>()({
  name: true,
  uid: true,
  displayName: true,
  serviceAccount: true,
  email: true,
  role: true,
  permissionPreset: true,
  state: true,
  status: true,
  createTime: true,
  updateTime: true,
  apiKeyCount: true,
  lastActiveTime: true,
  identityBindings: true,
});

/** `updateMask` (AIP-134): a cleared display name is empty; the role is required; a cleared preset is refused for role custom. */
const USER_UPDATE: UpdateMaskSpec = {
  updatable: { displayName: { clear: "" }, role: "required", permissionPreset: { clear: "" } },
  fields: USER_FIELDS,
};

const userBody = z.object({
  displayName: displayName().optional(),
  email: ruled(FIELD_RULES.email, "email").optional(),
  role: ruled(FIELD_RULES.role, "role").optional(),
  /** With role `custom` (implied when only this is given): one of the account's permission presets, by id or full name. */
  permissionPreset: z.string().optional(),
  serviceAccount: z.boolean().optional(),
});

/**
 * A PATCH may send back the whole User it read: output-only fields are ignored, the immutable
 * `email` and `serviceAccount` are accepted when unchanged (AIP-203).
 */
const updateBody = z.object({
  displayName: displayName().optional(),
  role: ruled(FIELD_RULES.role, "role").optional(),
  permissionPreset: z.string().optional(),
  updateMask: z.string().optional(),
  email: z.string().optional().describe("Immutable: accepted only unchanged"),
  serviceAccount: z.boolean().optional().describe("Immutable: accepted only unchanged"),
  ...outputOnlyFields("name", "uid", "createTime", "updateTime", "state", "status", "identityBindings", "apiKeyCount", "lastActiveTime"),
});

export function userRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users",
    operationId: "ListUsers",
    actions: ["users.list"],
    summary: "List users and service accounts",
    tag: "Users",
    response: userList,
    params: accountParams,
    query: listQuery(50, { readMask: USER_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await users.listUsers(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, users: applyReadMask(page.users, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users",
    operationId: "CreateUser",
    actions: ["users.create"],
    summary: "Create a user or a service account (admin)",
    tag: "Users",
    response: user,
    params: accountParams,
    query: z.object({ userId: example(newId("userId"), "ci-bot").optional() }),
    body: example(userBody, { displayName: "CI bot", role: "user", serviceAccount: true }),
    handler: ({ deps, ctx, params, query, body }) => users.createUser(deps, ctx, params.accountId, { ...body, userId: query.userId }),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "GetUser",
    actions: ["users.get"],
    summary: "Get a user or service account",
    tag: "Users",
    response: userWithBindings,
    params: userParams,
    query: readMaskQuery(USER_FIELDS),
    handler: async ({ deps, ctx, params, query }) => {
      const user = await users.getUser(deps, ctx, params.accountId, params.userId);
      return applyReadMaskTo(user, query.readMask);
    },
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "UpdateUser",
    actions: ["users.update"],
    summary: "Update a user's display name or role (admin)",
    tag: "Users",
    response: userWithBindings,
    params: userParams,
    query: updateMaskQuery,
    body: example(updateBody, { displayName: "CI bot (nightly)", role: "contributor" }),
    handler: ({ deps, ctx, params, query, body }) =>
      users.updateUser(deps, ctx, params.accountId, params.userId, applyUpdateMask(USER_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask)), {
        email: body.email,
        serviceAccount: body.serviceAccount,
      }),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}:unbindIdentity",
    operationId: "UnbindIdentity",
    actions: ["users.unbindIdentity"],
    summary: "Forget a user's binding to an identity provider's subject (admin), e.g. after the provider re-issued subjects; the next sign-in binds again",
    tag: "Users",
    response: userWithBindings,
    params: userParams,
    body: example(z.object({ identityProvider: z.string().optional() }).strict(), { identityProvider: "corp-sso" }),
    handler: ({ deps, ctx, params, body }) => unbindIdentity(deps, ctx, params.accountId, params.userId, body.identityProvider),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "DeleteUser",
    actions: ["users.delete"],
    summary: "Delete a user or service account and revoke all its API keys (admin)",
    tag: "Users",
    response: empty,
    params: userParams,
    handler: async ({ deps, ctx, params }) => {
      await users.deleteUser(deps, ctx, params.accountId, params.userId);
      return {};
    },
  });
}
