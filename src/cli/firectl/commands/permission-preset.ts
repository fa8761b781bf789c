import type { Command } from "commander";
import type { PermissionPreset } from "../../../http/resources/permission-preset.ts";
import { runs } from "../context.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { paths, permissionPresetRef } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { permissionPresetName } from "../../../domain/resource-names.ts";

/** `firectl permission-preset …`: the actions of role `custom` (`/v1/accounts/{a}/permissionPresets`). */
export const permissionPresetNoun: Noun = {
  name: "permission-preset",
  aliases: ["permission-presets"],
  description: "permission presets: the actions a user or service account with role custom holds",
};

function presetFields(preset: PermissionPreset): string {
  return renderFields([
    ["Name", preset.name],
    ["Display Name", preset.displayName ?? ""],
    ["Actions", (preset.actions ?? []).join(", ")],
    ["Create Time", localTime(preset.createTime)],
    ["Update Time", localTime(preset.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<PermissionPreset>> = [
  ["ID", (p) => idOf(p.name)],
  ["DISPLAY NAME", (p) => p.displayName ?? ""],
  ["ACTIONS", (p) => (p.actions ?? []).join(",")],
  ["UPDATED", (p) => localTime(p.updateTime)],
];

interface Flags {
  displayName?: string;
  actions?: string;
}

const withFlags = (command: Command): Command =>
  command
    .option("--display-name <name>", "display name (under 64 characters)")
    .option("--actions <names>", "comma-separated action names, e.g. 'models.list,models.get,inference.run' (see docs/roles.md)");

/** The request body from the flags given; only those present are sent. */
function body(o: Flags) {
  const actions =
    o.actions === undefined
      ? undefined
      : o.actions
          .split(",")
          .map((a) => a.trim())
          .filter(Boolean);
  return { displayName: o.displayName, actions };
}

const create: Verb = {
  noun: "permission-preset",
  verb: "create",
  summary: "create a permission preset (admin)",
  examples: ["firectl permission-preset create agent --actions models.list,models.get,inference.run --display-name Agent"],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<permission-preset-id>", "id of the new preset")), async (ctx, [id = ""], o) => {
      if (o.actions === undefined) throw usageError("--actions is required; see 'firectl permission-preset create --help'");
      const request = { method: "POST", path: paths.permissionPresets(await ctx.accountId()), query: { permissionPresetId: id }, body: body(o) } as const;
      await ctx.call<PermissionPreset>(request, (preset) => ctx.show(preset, presetFields));
    }),
};

const get: Verb = {
  noun: "permission-preset",
  verb: "get",
  summary: "show a permission preset",
  examples: ["firectl permission-preset get agent", "firectl permission-preset get accounts/my-account/permissionPresets/agent -o json"],
  define: (command) =>
    runs(command.argument("<permission-preset>", "permission preset id or name"), async (ctx, [value]) => {
      const ref = permissionPresetRef(value ?? "");
      await ctx.call<PermissionPreset>({ method: "GET", path: paths.permissionPreset(await ctx.accountId(ref), ref.id) }, (preset) =>
        ctx.show(preset, presetFields),
      );
    }),
};

const listVerb: Verb = {
  noun: "permission-preset",
  verb: "list",
  summary: "list the account's permission presets",
  examples: ["firectl permission-preset list", "firectl permission-preset list --order-by 'create_time desc'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'display_name=\"Agent\"'"), async (ctx, _args, flags) => {
      await list<PermissionPreset>(ctx, { method: "GET", path: paths.permissionPresets(await ctx.accountId()) }, "permissionPresets", flags, (presets) =>
        renderTable(COLUMNS, presets),
      );
    }),
};

const update: Verb = {
  noun: "permission-preset",
  verb: "update",
  summary: "change a permission preset; its holders' next requests use it (admin)",
  examples: ["firectl permission-preset update agent --actions models.list,inference.run"],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<permission-preset>", "permission preset id or name")), async (ctx, [value], o) => {
      const patch = body(o);
      if (patch.actions === undefined && patch.displayName === undefined) {
        throw usageError("nothing to update: pass --actions and/or --display-name; see 'firectl permission-preset update --help'");
      }
      const ref = permissionPresetRef(value ?? "");
      await ctx.call<PermissionPreset>({ method: "PATCH", path: paths.permissionPreset(await ctx.accountId(ref), ref.id), body: patch }, (preset) =>
        ctx.show(preset, presetFields),
      );
    }),
};

const remove: Verb = {
  noun: "permission-preset",
  verb: "delete",
  summary: "delete a permission preset nobody holds (admin)",
  examples: ["firectl permission-preset delete agent"],
  define: (command) =>
    runs(command.argument("<permission-preset>", "permission preset id or name"), async (ctx, [value]) => {
      const ref = permissionPresetRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.permissionPreset(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted permission preset ${permissionPresetName(accountId, ref.id)}.\n`),
      );
    }),
};

export const permissionPresetVerbs: Verb[] = [create, get, listVerb, update, remove];
