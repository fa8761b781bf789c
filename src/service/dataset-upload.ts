import { randomUUID } from "node:crypto";
import { aborted, failedPrecondition, invalidArgument } from "../domain/errors.ts";
import { JsonlValidator } from "../domain/jsonl.ts";
import type { DatasetFormat } from "../domain/dataset-format.ts";
import { datasetName } from "../domain/resource-names.ts";
import { lockAccount } from "../store/accounts.ts";
import * as datasets from "../store/datasets.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { getDatasetRow } from "./datasets.ts";
import { datasetView } from "./platform-views.ts";
import { checkQuotaRoom, readQuotaUse, reserve } from "./quotas.ts";
import { authorize } from "./permissions.ts";
import { isCreator } from "../domain/roles.ts";

/** Text is gathered into chunks of about this many characters before they are written. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Stores one upload's text as the dataset's chunks (rows of about CHUNK_BYTES characters, in
 * order): `append` buffers and writes a chunk once the buffer is full; `flush` writes the rest.
 */
export function chunkWriter(db: Db, accountId: string, datasetId: string, uploadId: string) {
  let seq = 0;
  let pending = "";
  const flush = async (): Promise<void> => {
    if (pending === "") return;
    const data = pending;
    pending = "";
    await datasets.insertChunk(db, accountId, datasetId, uploadId, seq++, data);
  };
  return {
    flush,
    async append(text: string): Promise<void> {
      pending += text;
      if (pending.length >= CHUNK_BYTES) await flush();
    },
  };
}

function tooLarge(limit: number): Error {
  return invalidArgument(`the upload is larger than the per-upload limit of ${limit} bytes`);
}

interface Staged {
  examples: number;
  /** The format the lines were held to: the dataset's, or the one its first example showed when it had none. */
  format: DatasetFormat;
  size: number;
  /** The dataset's create_time when the upload began (ms): a dataset created again since is another dataset. */
  createTime: number;
}

/**
 * Uploads a dataset's JSONL. The body streams through a line-by-line validator into chunk rows
 * tagged with a fresh upload id; nothing is visible until one transaction, holding the account
 * lock, checks the "dataset-storage-bytes" quota against what is stored now and marks the dataset
 * READY. A refused upload (bad line, too large, over quota, client gone) deletes its chunks, so it
 * stores nothing; concurrent uploads cannot together overshoot the quota. `method` names the
 * operation audited (`:validateUpload` feeds the file PUT to a signed URL through here, naming its
 * upload id as `validated`).
 * @throws ABORTED (409) when, while the body arrived, the dataset was deleted and created again
 * under its id, or the `validated` file was replaced by another PUT; the usual refusals otherwise.
 */
export async function uploadDataset(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  datasetId: string,
  body: AsyncIterable<Buffer>,
  contentLength: number | undefined,
  method = "UploadDataset",
  validated?: string,
) {
  const resource = datasetName(accountId, datasetId);
  const op = { method, resource, payload: { contentLength: contentLength ?? null } };
  const uploadId = randomUUID();
  const discard = () => datasets.deleteChunks(deps.store.db, accountId, datasetId, { only: uploadId }).catch(() => undefined);
  let staged: Staged;
  try {
    staged = await auditRefusals(ctx, op, () => stage(deps, ctx, accountId, datasetId, uploadId, body, contentLength));
  } catch (error) {
    await discard();
    throw error;
  }
  const final = { ...op, payload: { contentLength: contentLength ?? null, exampleCount: staged.examples, sizeBytes: staged.size } };
  try {
    return await audited(deps, ctx, final, async (trx) => {
      // Locked before the dataset is read, so an upload that completed it meanwhile is seen; `reserve` then counts under the same lock.
      await lockAccount(deps.store, trx, accountId);
      const current = await getDatasetRow(trx, accountId, datasetId);
      if (current.create_time !== staged.createTime) throw aborted(`dataset "${resource}" was deleted and created again while the upload arrived`);
      if (current.state !== "UPLOADING") throw failedPrecondition(`dataset "${resource}" was completed by another upload meanwhile`);
      if (validated !== undefined && current.upload_id !== validated) {
        throw aborted(`the file of dataset "${resource}" was replaced by another PUT while it was validated: validate again`);
      }
      // A file PUT to a signed URL counts already (its size_bytes): this upload replaces it.
      await reserve(deps, trx, accountId, "dataset-storage-bytes", staged.size - current.size_bytes);
      const now = Date.now();
      const patch = { state: "READY", format: staged.format, example_count: staged.examples, size_bytes: staged.size, upload_id: uploadId, update_time: now };
      await datasets.updateDataset(trx, accountId, datasetId, patch);
      // Chunks of uploads abandoned earlier (a process that died mid-upload) go now.
      await datasets.deleteChunks(trx, accountId, datasetId, { except: uploadId });
      return datasetView({ ...current, ...patch });
    });
  } catch (error) {
    await discard();
    throw error;
  }
}

/** Checks the request, then validates and writes the body as chunks of `uploadId` (not yet visible). */
async function stage(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  datasetId: string,
  uploadId: string,
  body: AsyncIterable<Buffer>,
  contentLength: number | undefined,
): Promise<Staged> {
  const db = deps.store.db;
  const maxUpload = deps.config.platform.maxUploadBytes;
  const row = await getDatasetRow(db, accountId, datasetId);
  const own = isCreator(ctx.principal.uid, row.creator_uid);
  authorize(ctx, own ? "datasets.manageOwn" : "datasets.manageOthers", own ? "upload to datasets" : "upload to datasets created by others");
  if (row.state !== "UPLOADING") {
    throw failedPrecondition(`dataset "${datasetName(accountId, datasetId)}" is ${row.state}: its content cannot be replaced; create a new dataset`);
  }
  if (contentLength !== undefined && contentLength > maxUpload) throw tooLarge(maxUpload);
  // An early look at the quota, so a hopeless upload stops at once; the binding check is the final one.
  const stored = await readQuotaUse(deps, db, accountId, "dataset-storage-bytes");
  const storage = { ...stored, used: stored.used - row.size_bytes };
  if (contentLength !== undefined) checkQuotaRoom(storage, contentLength);

  const validator = new JsonlValidator({ format: row.format });
  let received = 0;
  let size = 0;
  const chunks = chunkWriter(db, accountId, datasetId, uploadId);
  const take = async (lines: string) => {
    if (lines === "") return;
    size += Buffer.byteLength(lines);
    checkQuotaRoom(storage, size);
    await chunks.append(lines);
  };
  for await (const piece of body) {
    received += piece.length;
    if (received > maxUpload) throw tooLarge(maxUpload);
    await take(validator.push(piece));
  }
  await take(validator.finish());
  if (validator.examples === 0) throw invalidArgument("the upload holds no examples: send one JSON object per line");
  await chunks.flush();
  return { examples: validator.examples, format: validator.format ?? row.format, size, createTime: row.create_time };
}
