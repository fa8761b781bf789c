import { z } from "zod";
import * as presets from "../../service/permission-presets.ts";
import type { Router } from "../route.ts";
import { accountParams, displayName, id, listQuery, listRequest, newId } from "../schemas.ts";
import { applyReadMask, fieldNames } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { empty, example } from "../resources/common.ts";
import { permissionPreset, permissionPresetList } from "../resources/permission-preset.ts";

const presetParams = accountParams.extend({ permissionPresetId: example(id("permission preset id"), "agent") });

const body = z.object({
  displayName: displayName().optional(),
  /** Action names of the public vocabulary (docs/roles.md). */
  actions: z.array(z.string()).optional(),
});

const updateBody = body.extend({ updateMask: z.string().optional() });

/** `updateMask` (AIP-134): a cleared display name becomes the preset's id; the actions are required. */
const PRESET_UPDATE: UpdateMaskSpec = {
  updatable: { displayName: { clear: "" }, actions: "required" },
  fields: fieldNames<presets.PermissionPreset>()({ name: true, displayName: true, actions: true, createTime: true, updateTime: true }),
};

/** Permission presets of an account: the actions of role `custom` (admin-only changes). */
export function permissionPresetRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/permissionPresets",
    operationId: "ListPermissionPresets",
    actions: ["permissionPresets.list"],
    summary: "List the account's permission presets (the actions of role custom)",
    tag: "Users",
    response: permissionPresetList,
    params: accountParams,
    query: listQuery(100, { readMask: PRESET_UPDATE.fields }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await presets.listPermissionPresets(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, permissionPresets: applyReadMask(page.permissionPresets, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/permissionPresets",
    operationId: "CreatePermissionPreset",
    actions: ["permissionPresets.create"],
    summary: "Create a permission preset (admin): a display name and action names of the vocabulary",
    tag: "Users",
    response: permissionPreset,
    params: accountParams,
    query: z.object({ permissionPresetId: example(newId("permissionPresetId"), "agent").optional() }),
    body: example(body, { displayName: "Agent", actions: ["models.list", "models.get", "inference.run"] }),
    handler: ({ deps, ctx, params, query, body: b }) => presets.createPermissionPreset(deps, ctx, params.accountId, query.permissionPresetId, b),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/permissionPresets/{permissionPresetId}",
    operationId: "GetPermissionPreset",
    actions: ["permissionPresets.get"],
    summary: "Get a permission preset",
    tag: "Users",
    response: permissionPreset,
    params: presetParams,
    handler: ({ deps, ctx, params }) => presets.getPermissionPreset(deps, ctx, params.accountId, params.permissionPresetId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/permissionPresets/{permissionPresetId}",
    operationId: "UpdatePermissionPreset",
    actions: ["permissionPresets.update"],
    summary: "Update a permission preset (admin); its holders' next requests use the new actions",
    tag: "Users",
    response: permissionPreset,
    params: presetParams,
    query: updateMaskQuery,
    body: example(updateBody, { actions: ["models.list", "models.get", "deployments.list", "inference.run"] }),
    handler: ({ deps, ctx, params, query, body: b }) =>
      presets.updatePermissionPreset(
        deps,
        ctx,
        params.accountId,
        params.permissionPresetId,
        applyUpdateMask(PRESET_UPDATE, b, updateMaskOf(query.updateMask, b.updateMask)),
      ),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/permissionPresets/{permissionPresetId}",
    operationId: "DeletePermissionPreset",
    actions: ["permissionPresets.delete"],
    summary: "Delete a permission preset (admin); refused while any user or service account holds it",
    tag: "Users",
    response: empty,
    params: presetParams,
    handler: async ({ deps, ctx, params }) => {
      await presets.deletePermissionPreset(deps, ctx, params.accountId, params.permissionPresetId);
      return {};
    },
  });
}
