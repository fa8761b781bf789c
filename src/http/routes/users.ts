import { z } from "zod";
import { invalidArgument } from "../../domain/errors.ts";
import { unbindIdentity } from "../../service/identity-bindings.ts";
import * as users from "../../service/users.ts";
import type { Router } from "../route.ts";
import { applyReadMask } from "../read-mask.ts";
import { accountParams, listQuery, listRequest, userParams, plainText } from "../schemas.ts";

const USER_FIELDS = ["name", "displayName", "serviceAccount", "email", "role", "state", "status", "createTime", "updateTime", "identityBindings"];

const userBody = z.object({
  displayName: plainText().optional(),
  email: z.string().optional(),
  role: z.string().optional(),
  serviceAccount: z.boolean().optional(),
});

const updateBody = z.object({
  displayName: plainText().optional(),
  role: z.string().optional(),
  updateMask: z.string().optional(),
});

/** Fields a PATCH may change, by every spelling an update mask may use. */
const UPDATABLE: Readonly<Record<string, "displayName" | "role">> = { displayName: "displayName", display_name: "displayName", role: "role" };

/** Applies `updateMask` (body or query): only the named fields change; without a mask, those present. */
function maskedPatch(body: z.output<typeof updateBody>, mask: string | undefined): users.UpdateUserInput {
  if (!mask) return { displayName: body.displayName, role: body.role };
  const patch: users.UpdateUserInput = {};
  for (const raw of mask.split(",")) {
    const field = Object.hasOwn(UPDATABLE, raw.trim()) ? UPDATABLE[raw.trim()] : undefined;
    if (!field) throw invalidArgument(`invalid updateMask: field "${raw.trim()}" cannot be updated (updatable: displayName, role)`);
    patch[field] = body[field] ?? "";
  }
  return patch;
}

export function userRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users",
    operationId: "ListUsers",
    summary: "List users and service accounts",
    tag: "Users",
    params: accountParams,
    query: listQuery(50),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await users.listUsers(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, users: applyReadMask(page.users, query.readMask, USER_FIELDS) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users",
    operationId: "CreateUser",
    summary: "Create a user or a service account (admin)",
    tag: "Users",
    params: accountParams,
    query: z.object({ userId: z.string().optional() }),
    body: userBody,
    handler: ({ deps, ctx, params, query, body }) => users.createUser(deps, ctx, params.accountId, { ...body, userId: query.userId }),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "GetUser",
    summary: "Get a user or service account",
    tag: "Users",
    params: userParams,
    query: z.object({ readMask: z.string().max(512).optional() }),
    handler: async ({ deps, ctx, params, query }) => {
      const user = await users.getUser(deps, ctx, params.accountId, params.userId);
      return applyReadMask([user], query.readMask, USER_FIELDS)[0];
    },
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "UpdateUser",
    summary: "Update a user's display name or role (admin)",
    tag: "Users",
    params: userParams,
    query: z.object({ updateMask: z.string().optional() }),
    body: updateBody,
    handler: ({ deps, ctx, params, query, body }) =>
      users.updateUser(deps, ctx, params.accountId, params.userId, maskedPatch(body, query.updateMask ?? body.updateMask)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/users/{userId}:unbindIdentity",
    operationId: "UnbindIdentity",
    summary: "Forget a user's binding to an identity provider's subject (admin), e.g. after the provider re-issued subjects; the next sign-in binds again",
    tag: "Users",
    params: userParams,
    body: z.object({ identityProvider: z.string().optional() }).strict(),
    handler: ({ deps, ctx, params, body }) => unbindIdentity(deps, ctx, params.accountId, params.userId, body.identityProvider),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/users/{userId}",
    operationId: "DeleteUser",
    summary: "Delete a user or service account and revoke all its API keys (admin)",
    tag: "Users",
    params: userParams,
    handler: async ({ deps, ctx, params }) => {
      await users.deleteUser(deps, ctx, params.accountId, params.userId);
      return {};
    },
  });
}
