/**
 * @module The PermissionPreset resource as the API returns it: the actions of a custom role.
 */
import { z } from "zod";
import { listPage, timestamp } from "./common.ts";

/** A named set of actions (`accounts/{accountId}/permissionPresets/{id}`) that users with role `custom` hold. */
export const permissionPreset = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/permissionPresets/agent"] }),
    displayName: z.string(),
    /** Action names of the public vocabulary (docs/roles.md), sorted. */
    actions: z.array(z.string()).meta({ examples: [["models.list", "inference.run"]] }),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "PermissionPreset" });
export type PermissionPreset = z.output<typeof permissionPreset>;

/** Every preset of the account, on one page. */
export const permissionPresetList = listPage("permissionPresets", permissionPreset).meta({ id: "ListPermissionPresetsResponse" });
