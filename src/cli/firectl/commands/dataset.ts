import { statSync } from "node:fs";
import { runs } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { datasetRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { describeUpload, uploadFile } from "../upload.ts";

/** `firectl dataset …`: JSONL datasets, uploaded once, validated line by line, kept in the store. */
interface Dataset {
  name: string;
  displayName?: string;
  state?: string;
  exampleCount?: string;
  sizeBytes?: string;
  createdBy?: string;
  createTime?: string;
  updateTime?: string;
}

export const datasetNoun: Noun = { name: "dataset", aliases: ["datasets"], description: "JSONL datasets (quotas: datasets, dataset-storage-bytes)" };

const collection = (a: string): string => `${paths.account(a)}/datasets`;
const one = (a: string, id: string): string => `${collection(a)}/${encodeURIComponent(id)}`;

function datasetFields(d: Dataset): string {
  return renderFields([
    ["Name", d.name],
    ["Display Name", d.displayName ?? ""],
    ["State", d.state ?? ""],
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
  examples: ["firectl dataset create my-data train.jsonl", "firectl dataset create my-data train.jsonl --display-name 'Training set'"],
  define: (command) =>
    runs<{ displayName?: string }>(
      command
        .argument("<dataset-id>", "id of the new dataset")
        .argument("<file>", "the JSONL file")
        .option("--display-name <name>", "display name (under 64 characters)"),
      async (ctx, [id = "", file = ""], o) => {
        const size = fileSize(file);
        const accountId = await ctx.accountId();
        const upload = `${one(accountId, id)}:upload`;
        if (ctx.dryRun) {
          ctx.out(ctx.describe({ method: "POST", path: collection(accountId), query: { datasetId: id }, body: { dataset: { displayName: o.displayName } } }));
          ctx.out(describeUpload(ctx, upload, file, size, "application/jsonl"));
          return;
        }
        await ctx.send<Dataset>({ method: "POST", path: collection(accountId), query: { datasetId: id }, body: { dataset: { displayName: o.displayName } } });
        let dataset: Dataset;
        try {
          dataset = await uploadFile<Dataset>(ctx, upload, file, size, "application/jsonl");
        } catch (error) {
          // The empty dataset would only hold a place in the quota: remove it, then report the refusal.
          await ctx.send({ method: "DELETE", path: one(accountId, id) }).catch(() => undefined);
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
      await ctx.call<Dataset>({ method: "GET", path: one(await ctx.accountId(ref), ref.id) }, (d) => ctx.show(d, datasetFields));
    }),
};

const listDatasets: Verb = {
  noun: "dataset",
  verb: "list",
  summary: "list the account's datasets",
  examples: ["firectl dataset list", "firectl dataset list --filter 'state=READY'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=READY'"), async (ctx, _args, flags) => {
      await list<Dataset>(ctx, { method: "GET", path: collection(await ctx.accountId()) }, "datasets", flags, (items) => renderTable(COLUMNS, items));
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
        await ctx.call<Dataset>({ method: "PATCH", path: one(await ctx.accountId(ref), ref.id), body: { displayName: o.displayName } }, (d) =>
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
      await ctx.call({ method: "DELETE", path: one(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted dataset accounts/${accountId}/datasets/${ref.id}.\n`),
      );
    }),
};

export const datasetVerbs: Verb[] = [create, get, listDatasets, update, remove];
