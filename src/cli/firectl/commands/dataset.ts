import { statSync } from "node:fs";
import { DATASET_FORMATS } from "../../../domain/dataset-format.ts";
import type { Dataset } from "../../../http/resources/dataset.ts";
import { runs } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { datasetRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { describeUpload, uploadFile } from "../upload.ts";
import { datasetName } from "../../../domain/resource-names.ts";

/** `firectl dataset …`: JSONL datasets, uploaded once, validated line by line, kept in the store. */
export const datasetNoun: Noun = { name: "dataset", aliases: ["datasets"], description: "JSONL datasets (quotas: datasets, dataset-storage-bytes)" };

function datasetFields(d: Dataset): string {
  return renderFields([
    ["Name", d.name],
    ["Display Name", d.displayName ?? ""],
    ["State", d.state ?? ""],
    ["Format", d.format ?? ""],
    ["Example Count", d.exampleCount ?? ""],
    ["Size Bytes", d.sizeBytes ?? ""],
    ["Created By", d.createdBy ?? ""],
    ["Create Time", localTime(d.createTime)],
    ["Update Time", localTime(d.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Dataset>> = [
  ["ID", (d) => idOf(d.name)],
  ["STATE", (d) => d.state ?? ""],
  ["EXAMPLES", (d) => d.exampleCount ?? ""],
  ["BYTES", (d) => d.sizeBytes ?? ""],
  ["CREATED BY", (d) => d.createdBy ?? ""],
];

function fileSize(file: string): number {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw usageError(`${file} is not a file`);
    return stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

const create: Verb = {
  noun: "dataset",
  verb: "create",
  summary: "create a dataset from a JSONL file (one JSON object per line); nothing is kept if the upload is refused",
  examples: [
    "firectl dataset create my-data train.jsonl",
    "firectl dataset create my-data train.jsonl --display-name 'Training set'",
    "firectl dataset create my-prompts prompts.jsonl --format completion",
  ],
  define: (command) =>
    runs<{ displayName?: string; format?: string; quiet?: boolean; externalUrl?: string }>(
      command
        .argument("<dataset-id>", "id of the new dataset")
        .argument("[file]", "the JSONL file")
        .option("--display-name <name>", "display name (under 64 characters)")
        .option(
          "--format <format>",
          'what each line holds: chat ({"messages": [...]}), completion ({"prompt", "completion"}) or rl; by default, what the file\'s first line holds',
        )
        .option("--quiet", "accepted for Fireworks scripts: this firectl prints no upload progress bar")
        .option("--external-url <url>", "not served: Hearth keeps a dataset's file itself (give FILE)"),
      async (ctx, [id = "", file], o) => {
        if (o.externalUrl !== undefined)
          throw usageError("--external-url is not served: Hearth stores a dataset's file itself; give the JSONL file instead (firectl dataset create ID FILE)");
        if (file === undefined) throw usageError("missing the JSONL file: firectl dataset create ID FILE");
        const format = o.format?.toUpperCase();
        const named = DATASET_FORMATS.filter((f) => f !== "FORMAT_UNSPECIFIED");
        if (format !== undefined && !(named as readonly string[]).includes(format)) {
          throw usageError(`--format takes ${named.map((f) => f.toLowerCase()).join(", ")}, not ${JSON.stringify(o.format)}`);
        }
        const size = fileSize(file);
        const accountId = await ctx.accountId();
        const upload = `${paths.dataset(accountId, id)}:upload`;
        const body = { dataset: { displayName: o.displayName, format } };
        if (ctx.dryRun) {
          ctx.out(ctx.describe({ method: "POST", path: paths.datasets(accountId), query: { datasetId: id }, body }));
          ctx.out(describeUpload(ctx, upload, file, size, "application/jsonl"));
          return;
        }
        await ctx.send<Dataset>({ method: "POST", path: paths.datasets(accountId), query: { datasetId: id }, body });
        let dataset: Dataset;
        try {
          dataset = await uploadFile<Dataset>(ctx, upload, file, size, "application/jsonl");
        } catch (error) {
          // The empty dataset would only hold a place in the quota: remove it, then report the refusal.
          await ctx.send({ method: "DELETE", path: paths.dataset(accountId, id) }).catch(() => undefined);
          throw error;
        }
        ctx.show(dataset, datasetFields);
      },
    ),
};

const get: Verb = {
  noun: "dataset",
  verb: "get",
  summary: "show a dataset",
  examples: ["firectl dataset get my-data"],
  define: (command) =>
    runs(command.argument("<dataset>", "dataset id or name"), async (ctx, [value]) => {
      const ref = datasetRef(value ?? "");
      await ctx.call<Dataset>({ method: "GET", path: paths.dataset(await ctx.accountId(ref), ref.id) }, (d) => ctx.show(d, datasetFields));
    }),
};

const listDatasets: Verb = {
  noun: "dataset",
  verb: "list",
  summary: "list the account's datasets",
  examples: ["firectl dataset list", "firectl dataset list --filter 'state=READY'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=READY'"), async (ctx, _args, flags) => {
      await list<Dataset>(ctx, { method: "GET", path: paths.datasets(await ctx.accountId()) }, "datasets", flags, (items) => renderTable(COLUMNS, items));
    }),
};

const update: Verb = {
  noun: "dataset",
  verb: "update",
  summary: "rename a dataset (its creator, or a user or admin)",
  examples: ["firectl dataset update my-data --display-name 'Training set v2'"],
  define: (command) =>
    runs<{ displayName?: string }>(
      command.argument("<dataset>", "dataset id or name").option("--display-name <name>", "new display name"),
      async (ctx, [value], o) => {
        if (o.displayName === undefined) throw usageError("nothing to update: pass --display-name; see 'firectl dataset update --help'");
        const ref = datasetRef(value ?? "");
        await ctx.call<Dataset>({ method: "PATCH", path: paths.dataset(await ctx.accountId(ref), ref.id), body: { displayName: o.displayName } }, (d) =>
          ctx.show(d, datasetFields),
        );
      },
    ),
};

const remove: Verb = {
  noun: "dataset",
  verb: "delete",
  summary: "delete a dataset and its content (its creator, or a user or admin)",
  examples: ["firectl dataset delete my-data"],
  define: (command) =>
    runs(command.argument("<dataset>", "dataset id or name"), async (ctx, [value]) => {
      const ref = datasetRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.dataset(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted dataset ${datasetName(accountId, ref.id)}.\n`),
      );
    }),
};

export const datasetVerbs: Verb[] = [create, get, listDatasets, update, remove];
