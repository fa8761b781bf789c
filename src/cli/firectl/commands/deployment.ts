import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { Deployment } from "../../../http/resources/deployment.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { deploymentRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { deploymentName } from "../../../domain/resource-names.ts";

/** `firectl deployment …`: a model bound to a backend; READY once the backend answers. */
export const deploymentNoun: Noun = { name: "deployment", aliases: ["deployments"], description: "deployments: a model on a backend" };

function deploymentFields(d: Deployment): string {
  return renderFields([
    ["Name", d.name],
    ["Display Name", d.displayName ?? ""],
    ["Base Model", d.baseModel ?? ""],
    ["Backend", d.backend ?? ""],
    ["State", d.state ?? ""],
    ["Status", d.status?.message ? `${d.status.code ?? ""}: ${d.status.message}` : (d.status?.code ?? "")],
    ["Created By", d.createdBy ?? ""],
    ["Create Time", localTime(d.createTime)],
    ["Update Time", localTime(d.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Deployment>> = [
  ["ID", (d) => idOf(d.name)],
  ["BASE MODEL", (d) => d.baseModel ?? ""],
  ["BACKEND", (d) => d.backend ?? ""],
  ["STATE", (d) => d.state ?? ""],
  ["CREATED BY", (d) => d.createdBy ?? ""],
];

interface Flags {
  deploymentId?: string;
  displayName?: string;
  backend?: string;
  baseModel?: string;
}

const withFlags = (command: Command): Command =>
  command.option("--display-name <name>", "display name (under 64 characters)").option("--backend <name>", "backend to serve it on (default: the model's own)");

const create: Verb = {
  noun: "deployment",
  verb: "create",
  summary: "deploy a model; READY once its backend answers, FAILED with the reason otherwise (quota: deployments)",
  examples: [
    "firectl deployment create accounts/my-account/models/my-llama --deployment-id my-dep",
    "firectl deployment create accounts/fireworks/models/llama-v3p1-8b-instruct --backend vllm-2",
  ],
  define: (command) =>
    runs<Flags>(
      withFlags(command.argument("<model>", "model id or name to deploy").option("--deployment-id <id>", "id of the new deployment (generated when absent)")),
      async (ctx, [model], o) => {
        const deploymentId = o.deploymentId ?? `deployment-${randomBytes(5).toString("hex")}`;
        const body = { baseModel: model, displayName: o.displayName, backend: o.backend };
        const request = { method: "POST", path: paths.deployments(await ctx.accountId()), query: { deploymentId }, body } as const;
        await ctx.call<Deployment>(request, (d) => ctx.show(d, deploymentFields));
      },
    ),
};

const get: Verb = {
  noun: "deployment",
  verb: "get",
  summary: "show a deployment",
  examples: ["firectl deployment get my-dep"],
  define: (command) =>
    runs(command.argument("<deployment>", "deployment id or name"), async (ctx, [value]) => {
      const ref = deploymentRef(value ?? "");
      await ctx.call<Deployment>({ method: "GET", path: paths.deployment(await ctx.accountId(ref), ref.id) }, (d) => ctx.show(d, deploymentFields));
    }),
};

const listDeployments: Verb = {
  noun: "deployment",
  verb: "list",
  summary: "list the account's deployments",
  examples: ["firectl deployment list", "firectl deployment list --filter 'state=READY'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=READY'"), async (ctx, _args, flags) => {
      await list<Deployment>(ctx, { method: "GET", path: paths.deployments(await ctx.accountId()) }, "deployments", flags, (items) =>
        renderTable(COLUMNS, items),
      );
    }),
};

const update: Verb = {
  noun: "deployment",
  verb: "update",
  summary: "change a deployment; one that is not READY is probed again (its creator, or a user or admin)",
  examples: ["firectl deployment update my-dep --display-name prod", "firectl deployment update my-dep --base-model accounts/my-account/models/other"],
  define: (command) =>
    runs<Flags>(
      withFlags(command.argument("<deployment>", "deployment id or name").option("--base-model <model>", "model to serve instead")),
      async (ctx, [value], o) => {
        const patch = { displayName: o.displayName, backend: o.backend, baseModel: o.baseModel };
        if (Object.values(patch).every((v) => v === undefined))
          throw usageError("nothing to update: pass at least one flag; see 'firectl deployment update --help'");
        const ref = deploymentRef(value ?? "");
        await ctx.call<Deployment>({ method: "PATCH", path: paths.deployment(await ctx.accountId(ref), ref.id), body: patch }, (d) =>
          ctx.show(d, deploymentFields),
        );
      },
    ),
};

const remove: Verb = {
  noun: "deployment",
  verb: "delete",
  summary: "delete a deployment (its creator, or a user or admin)",
  examples: ["firectl deployment delete my-dep"],
  define: (command) =>
    runs(command.argument("<deployment>", "deployment id or name"), async (ctx, [value]) => {
      const ref = deploymentRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.deployment(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted deployment ${deploymentName(accountId, ref.id)}.\n`),
      );
    }),
};

export const deploymentVerbs: Verb[] = [create, get, listDeployments, update, remove];
