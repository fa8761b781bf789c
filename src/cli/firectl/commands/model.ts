import { InvalidArgumentError, Option, type Command } from "commander";
import type { Model } from "../../../http/resources/model.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { modelRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, yesNo, type Column } from "../output.ts";
import { modelName } from "../../../domain/resource-names.ts";

/** `firectl model …`: models of the account, each served by a backend the operator declared. */
export const modelNoun: Noun = { name: "model", aliases: ["models"], description: "models: a backend, the model name it knows, and prices" };

/** USD per million tokens: a non-negative number. */
function parsePrice(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError("expected a non-negative number (USD per million tokens)");
  return Number(value);
}

function modelFields(m: Model): string {
  return renderFields([
    ["Name", m.name],
    ["Display Name", m.displayName ?? ""],
    ["Description", m.description ?? ""],
    ["Backend", m.backend ?? ""],
    ["Upstream Model", m.upstreamModel ?? ""],
    ["Input Price", `$${m.inputPricePerMillionTokens ?? 0} per million tokens`],
    ["Output Price", `$${m.outputPricePerMillionTokens ?? 0} per million tokens`],
    ["Public", yesNo(m.public)],
    ["Created By", m.createdBy ?? ""],
    ["Create Time", localTime(m.createTime)],
    ["Update Time", localTime(m.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Model>> = [
  ["ID", (m) => idOf(m.name)],
  ["DISPLAY NAME", (m) => m.displayName ?? ""],
  ["BACKEND", (m) => m.backend ?? ""],
  ["UPSTREAM MODEL", (m) => m.upstreamModel ?? ""],
  ["CREATED BY", (m) => m.createdBy ?? ""],
];

interface Flags {
  backend?: string;
  upstreamModel?: string;
  displayName?: string;
  description?: string;
  inputPrice?: number;
  outputPrice?: number;
}

function withFlags(command: Command): Command {
  return command
    .option("--backend <name>", "backend declared by the operator in HEARTH_CONFIG")
    .option("--upstream-model <name>", "the model name the backend knows (default: the model id)")
    .option("--display-name <name>", "display name (under 64 characters)")
    .option("--description <text>", "description")
    .addOption(new Option("--input-price <usd>", "USD per million prompt tokens").argParser(parsePrice))
    .addOption(new Option("--output-price <usd>", "USD per million completion tokens").argParser(parsePrice));
}

const body = (o: Flags) => ({
  backend: o.backend,
  upstreamModel: o.upstreamModel,
  displayName: o.displayName,
  description: o.description,
  inputPricePerMillionTokens: o.inputPrice,
  outputPricePerMillionTokens: o.outputPrice,
});

const create: Verb = {
  noun: "model",
  verb: "create",
  summary: "create a model served by a configured backend (contributor, user, admin)",
  examples: ['firectl model create my-llama --backend vllm --upstream-model "meta-llama/Llama-3.1-8B-Instruct" --input-price 0.2 --output-price 0.2'],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<model-id>", "id of the new model")), async (ctx, [id], o) => {
      if (!o.backend) throw usageError("--backend is required; see 'firectl model create --help'");
      const request = { method: "POST", path: paths.models(await ctx.accountId()), query: { modelId: id }, body: { model: body(o) } } as const;
      await ctx.call<Model>(request, (m) => ctx.show(m, modelFields));
    }),
};

const get: Verb = {
  noun: "model",
  verb: "get",
  summary: "show a model (public models: accounts/fireworks/models/ID)",
  examples: ["firectl model get my-llama", "firectl model get accounts/fireworks/models/llama-v3p1-8b-instruct"],
  define: (command) =>
    runs(command.argument("<model>", "model id or name"), async (ctx, [value]) => {
      const ref = modelRef(value ?? "");
      // A public model is named with the catalogue's account, which is not the caller's.
      const accountId = ref.accountId ?? (await ctx.accountId());
      await ctx.call<Model>({ method: "GET", path: paths.model(accountId, ref.id) }, (m) => ctx.show(m, modelFields));
    }),
};

const listModels: Verb = {
  noun: "model",
  verb: "list",
  summary: "list the account's models",
  examples: ["firectl model list", "firectl model list --filter 'backend=\"vllm\"'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'backend=\"vllm\"'"), async (ctx, _args, flags) => {
      await list<Model>(ctx, { method: "GET", path: paths.models(await ctx.accountId()) }, "models", flags, (models) => renderTable(COLUMNS, models));
    }),
};

const update: Verb = {
  noun: "model",
  verb: "update",
  summary: "change a model; only the flags given change (its creator, or a user or admin)",
  examples: ["firectl model update my-llama --display-name 'Llama 3.1 8B' --output-price 0.3"],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<model>", "model id or name")), async (ctx, [value], o) => {
      const patch = body(o);
      if (Object.values(patch).every((v) => v === undefined)) throw usageError("nothing to update: pass at least one flag; see 'firectl model update --help'");
      const ref = modelRef(value ?? "");
      await ctx.call<Model>({ method: "PATCH", path: paths.model(await ctx.accountId(ref), ref.id), body: patch }, (m) => ctx.show(m, modelFields));
    }),
};

const remove: Verb = {
  noun: "model",
  verb: "delete",
  summary: "delete a model no deployment uses (its creator, or a user or admin)",
  examples: ["firectl model delete my-llama"],
  define: (command) =>
    runs(command.argument("<model>", "model id or name"), async (ctx, [value]) => {
      const ref = modelRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.model(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted model ${modelName(accountId, ref.id)}.\n`),
      );
    }),
};

export const modelVerbs: Verb[] = [create, get, listModels, update, remove];
