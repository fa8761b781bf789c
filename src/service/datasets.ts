import { aborted, failedPrecondition, invalidArgument, notFound } from "../domain/errors.ts";
import { checkId } from "../domain/ids.ts";
import type { DatasetFormat } from "../domain/dataset-format.ts";
import { collectionName, datasetName } from "../domain/resource-names.ts";
import * as datasets from "../store/datasets.ts";
import { lockAccount } from "../store/accounts.ts";
import type { ListRequest } from "../store/list.ts";
import type { DatasetRow } from "../store/platform-rows.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { datasetView } from "./platform-views.ts";
import { createWithinQuota } from "./quotas.ts";
import { authorize } from "./permissions.ts";
import { isCreator } from "../domain/roles.ts";

export interface DatasetInput {
  displayName?: string | undefined;
  /** What each line will hold; CHAT when not given (Fireworks' default). */
  format?: DatasetFormat | undefined;
}

export async function getDatasetRow(db: Db, accountId: string, datasetId: string): Promise<DatasetRow> {
  const row = await datasets.getDataset(db, accountId, datasetId);
  if (!row) throw notFound(`dataset "${datasetName(accountId, datasetId)}" not found`);
  return row;
}

/** Creates an empty dataset (state UPLOADING) under the "datasets" quota; its content comes by upload. */
export async function createDataset(deps: Deps, ctx: Ctx, accountId: string, datasetId: string | undefined, input: DatasetInput) {
  const op = { method: "CreateDataset", resource: datasetName(accountId, datasetId ?? ""), payload: input };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, "datasets.create");
    if (!datasetId) throw invalidArgument("datasetId is required (?datasetId=ID)");
    const id = checkId(datasetId, "datasetId");
    const now = Date.now();
    const row: DatasetRow = {
      account_id: accountId,
      id,
      display_name: checkDisplayName(input.displayName ?? ""),
      state: "UPLOADING",
      format: input.format ?? "FORMAT_UNSPECIFIED",
      example_count: 0,
      size_bytes: 0,
      upload_id: "",
      created_by: ctx.principal.email,
      creator_uid: ctx.principal.uid,
      create_time: now,
      update_time: now,
    };
    await createWithinQuota(deps, trx, accountId, "datasets", () => datasets.insertDataset(trx, row));
    return datasetView(row);
  });
}

export async function getDataset(deps: Deps, ctx: Ctx, accountId: string, datasetId: string) {
  const op = { method: "GetDataset", resource: datasetName(accountId, datasetId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "datasets.get");
    return datasetView(await getDatasetRow(deps.store.db, accountId, datasetId));
  });
}

export async function listDatasets(deps: Deps, ctx: Ctx, accountId: string, req: ListRequest) {
  const op = { method: "ListDatasets", resource: collectionName(accountId, "datasets") };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "datasets.list");
    const page = await datasets.listDatasets(deps.store.db, accountId, req);
    return { datasets: page.rows.map(datasetView), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
  });
}

/**
 * Renames a dataset (`input.displayName`). `immutable` holds the fields set at creation that the
 * request sent back (AIP-203 IMMUTABLE): accepted unchanged, refused when they differ.
 * @throws INVALID_ARGUMENT `field "format" is immutable: it cannot be changed from "CHAT"`; NOT_FOUND; PERMISSION_DENIED.
 */
export async function updateDataset(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  datasetId: string,
  input: Pick<DatasetInput, "displayName">,
  immutable: Pick<DatasetInput, "format"> = {},
) {
  const op = { method: "UpdateDataset", resource: datasetName(accountId, datasetId), payload: input };
  return audited(deps, ctx, op, async (trx) => {
    // Locked before the row is read (as a create reserving quota locks): a concurrent deletion is then a 404, never a success that changed nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await getDatasetRow(trx, accountId, datasetId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "datasets.manageOwn" : "datasets.manageOthers", own ? "update datasets" : "update datasets created by others");
    if (immutable.format !== undefined && immutable.format !== row.format)
      throw invalidArgument(`field "format" is immutable: it cannot be changed from ${JSON.stringify(row.format)}`);
    const patch: datasets.DatasetPatch = {};
    if (input.displayName !== undefined) patch.display_name = checkDisplayName(input.displayName);
    const next: DatasetRow = { ...row, ...patch, update_time: Date.now() };
    await datasets.updateDataset(trx, accountId, datasetId, { ...patch, update_time: next.update_time });
    return datasetView(next);
  });
}

/** Deletes a dataset and its stored content; its bytes no longer count against the quota. */
export async function deleteDataset(deps: Deps, ctx: Ctx, accountId: string, datasetId: string): Promise<void> {
  const op = { method: "DeleteDataset", resource: datasetName(accountId, datasetId) };
  await audited(deps, ctx, op, async (trx) => {
    await lockAccount(deps.store, trx, accountId);
    const row = await getDatasetRow(trx, accountId, datasetId);
    const own = isCreator(ctx.principal.uid, row.creator_uid);
    authorize(ctx, own ? "datasets.manageOwn" : "datasets.manageOthers", own ? "delete datasets" : "delete datasets created by others");
    await datasets.deleteDataset(trx, accountId, datasetId);
  });
}

/**
 * A READY dataset's file as it streams from the store: `sizeBytes` (its length in bytes, for
 * Content-Length) and its `chunks`, which end in ABORTED (409) rather than end early when the dataset
 * is deleted while it is read, so a cut download never looks complete.
 */
export interface DatasetFile {
  sizeBytes: number;
  chunks: AsyncGenerator<string>;
}

/**
 * That `row` is READY: only then has it content to download.
 * @throws FAILED_PRECONDITION (400) naming its state otherwise.
 */
export function requireReady(row: DatasetRow): void {
  if (row.state !== "READY") throw failedPrecondition(`dataset "${datasetName(row.account_id, row.id)}" has no content yet (state ${row.state})`);
}

/**
 * The chunks of READY `row`'s upload, checked to add up to its `size_bytes` (see `DatasetFile`).
 * @throws FAILED_PRECONDITION (400) when `row` is not READY (`requireReady`).
 */
export function datasetFile(db: Db, row: DatasetRow): DatasetFile {
  requireReady(row);
  const resource = datasetName(row.account_id, row.id);
  async function* chunks(): AsyncGenerator<string> {
    let sent = 0;
    for await (const chunk of datasets.readChunks(db, row.account_id, row.id, row.upload_id)) {
      sent += Buffer.byteLength(chunk);
      yield chunk;
    }
    if (sent !== row.size_bytes) throw aborted(`dataset "${resource}" was deleted while it was being read: ${sent} of its ${row.size_bytes} bytes were sent`);
  }
  return { sizeBytes: row.size_bytes, chunks: chunks() };
}

/** The JSONL of a READY dataset, chunk by chunk, from the store (any Hearth process can serve it). */
export async function readDataset(deps: Deps, ctx: Ctx, accountId: string, datasetId: string): Promise<DatasetFile> {
  const op = { method: "DownloadDataset", resource: datasetName(accountId, datasetId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "datasets.download");
    return datasetFile(deps.store.db, await getDatasetRow(deps.store.db, accountId, datasetId));
  });
}
