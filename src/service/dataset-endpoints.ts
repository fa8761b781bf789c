import { randomUUID } from "node:crypto";
import type { Transaction } from "kysely";
import { aborted, ApiError, failedPrecondition, invalidArgument, permissionDenied } from "../domain/errors.ts";
import { datasetName } from "../domain/resource-names.ts";
import type { Principal } from "../domain/principal.ts";
import { isCreator } from "../domain/roles.ts";
import { checkGrant, signGrant, type SignedGrant } from "../domain/signed-url.ts";
import { lockAccount } from "../store/accounts.ts";
import * as datasets from "../store/datasets.ts";
import type { DatasetRow } from "../store/platform-rows.ts";
import type { Schema } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { audited, auditRefusals, principalActor, writeAudit } from "./audit.ts";
import type { Ctx, Deps, RequestMeta } from "./context.ts";
import { chunkWriter, uploadDataset } from "./dataset-upload.ts";
import { datasetFile, getDatasetRow, requireReady, type DatasetFile } from "./datasets.ts";
import { authorize, holds } from "./permissions.ts";
import { signerOf, signerPrincipal } from "./url-signer.ts";
import { checkQuotaRoom, readQuotaUse, reserve } from "./quotas.ts";
import { signedUrlKey } from "./server-key.ts";
import { wholeNumber } from "../domain/whole-number.ts";

/**
 * @module Fireworks' three-step dataset upload and its download endpoint: `:getUploadEndpoint`
 * signs one upload URL per file, the client PUTs the file there (no API key: the URL authorizes
 * it), `:validateUpload` checks it against the dataset's format and makes it READY;
 * `:getDownloadEndpoint` signs download URLs. Hearth serves the signed URLs itself, under
 * `/v1/accounts/{accountId}/datasets/{datasetId}/files/{filename}`.
 */

/** `{"filenameToSignedUrls": {"train.jsonl": "https://…"}}` (Fireworks' GetDatasetUploadEndpointResponse / GetDatasetDownloadEndpointResponse). */
export interface SignedUrls {
  filenameToSignedUrls: Record<string, string>;
}

const FILENAME = /^[^/\\\u0000-\u001f\u007f]{1,255}$/;

function checkFilename(filename: string): string {
  if (!FILENAME.test(filename) || filename === "." || filename === ".." || !filename.isWellFormed()) {
    throw invalidArgument(
      `file name ${JSON.stringify(filename.slice(0, 300))} must be 1-255 characters of well-formed Unicode (no lone surrogate) without "/", "\\" or control characters`,
    );
  }
  return filename;
}

function fileUrl(origin: string, accountId: string, datasetId: string, filename: string): string {
  return `${origin}/v1/accounts/${accountId}/datasets/${datasetId}/files/${encodeURIComponent(filename)}`;
}

function authorizeUpload(ctx: Ctx, row: DatasetRow): void {
  const own = isCreator(ctx.principal.uid, row.creator_uid);
  authorize(ctx, own ? "datasets.manageOwn" : "datasets.manageOthers", own ? "upload to datasets" : "upload to datasets created by others");
}

/** A URL made now: `issued` now and `expires` HEARTH_SIGNED_URL_TTL_SECONDS later, in Unix seconds. */
function lifetime(deps: Deps): { issued: number; expires: number } {
  const issued = Math.floor(Date.now() / 1000);
  return { issued, expires: issued + deps.config.signedUrlTtlSeconds };
}

/**
 * `:getUploadEndpoint`: one signed PUT URL for the dataset's file, valid for
 * HEARTH_SIGNED_URL_TTL_SECONDS. `filenameToSize` maps the file name to its size in bytes as a
 * decimal string (int64 in protobuf JSON); a Hearth dataset holds one file, so it names exactly
 * one. The size must fit the per-upload limit and the "dataset-storage-bytes" quota now; the
 * binding quota check is at `:validateUpload`. Audited: the URL is a grant.
 */
export async function getUploadEndpoint(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  datasetId: string,
  filenameToSize: Record<string, string>,
  origin: string,
): Promise<SignedUrls> {
  const op = { method: "GetDatasetUploadEndpoint", resource: datasetName(accountId, datasetId), payload: { filenameToSize } };
  return audited(deps, ctx, op, async (trx) => {
    const row = await getDatasetRow(trx, accountId, datasetId);
    authorizeUpload(ctx, row);
    if (row.state !== "UPLOADING") {
      throw failedPrecondition(`dataset "${datasetName(accountId, datasetId)}" is ${row.state}: its content cannot be replaced; create a new dataset`);
    }
    const entries = Object.entries(filenameToSize);
    if (entries.length !== 1) throw invalidArgument(`filenameToSize names ${entries.length} files: a dataset holds one JSONL file, name exactly one`);
    const [[name, sizeText]] = entries as [[string, string]];
    const filename = checkFilename(name);
    const max = deps.config.platform.maxUploadBytes;
    const size = wholeNumber(sizeText, 1, max);
    if (size === undefined) {
      throw invalidArgument(`filenameToSize["${filename}"] is ${JSON.stringify(sizeText)}: give the file's size in bytes, 1 to ${max}, as a decimal string`);
    }
    // A file PUT before counts already (its size_bytes); this one replaces it.
    const storage = await readQuotaUse(deps, trx, accountId, "dataset-storage-bytes");
    checkQuotaRoom({ ...storage, used: storage.used - row.size_bytes }, size);
    const grant: SignedGrant = {
      kind: "upload",
      accountId,
      datasetId,
      filename,
      size,
      ...lifetime(deps),
      signer: signerOf(ctx.principal),
      revision: revisionOf("upload", row),
    };
    return { filenameToSignedUrls: { [filename]: `${fileUrl(origin, accountId, datasetId, filename)}?${signGrant(signedUrlKey(deps.config), grant)}` } };
  });
}

/**
 * `:getDownloadEndpoint`: a signed GET URL for a READY dataset's JSONL (named `{datasetId}.jsonl`),
 * valid for HEARTH_SIGNED_URL_TTL_SECONDS.
 */
export async function getDownloadEndpoint(deps: Deps, ctx: Ctx, accountId: string, datasetId: string, origin: string): Promise<SignedUrls> {
  const op = { method: "GetDatasetDownloadEndpoint", resource: datasetName(accountId, datasetId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, "datasets.download");
    const row = await getDatasetRow(deps.store.db, accountId, datasetId);
    requireReady(row);
    const filename = `${datasetId}.jsonl`;
    const grant: SignedGrant = {
      kind: "download",
      accountId,
      datasetId,
      filename,
      ...lifetime(deps),
      signer: signerOf(ctx.principal),
      revision: revisionOf("download", row),
    };
    return { filenameToSignedUrls: { [filename]: `${fileUrl(origin, accountId, datasetId, filename)}?${signGrant(signedUrlKey(deps.config), grant)}` } };
  });
}

/** The dataset state a signed URL is bound to (`SignedGrant.revision`). */
const revisionOf = (kind: SignedGrant["kind"], row: { create_time: number; upload_id: string }): string =>
  kind === "upload" ? String(row.create_time) : row.upload_id;

/** A signed URL that checked out: what it grants, and the principal it acts for (its signer, as it stands now). */
export interface SignedUse {
  grant: SignedGrant;
  signer: Principal;
}

/**
 * Checks a signed URL's `signature` for `grant` as the store holds the dataset now (its revision),
 * then its expiry, in constant time; then its signer (`checkSigner`). A dataset that no longer
 * exists matches no signature.
 * @param clientIp the address the URL is used from.
 * @throws PERMISSION_DENIED (403), see `checkGrant` and `checkSigner`.
 */
export async function checkSignedUrl(deps: Deps, grant: Omit<SignedGrant, "revision">, signature: string | undefined, clientIp: string): Promise<SignedUse> {
  const row = await datasets.getDataset(deps.store.db, grant.accountId, grant.datasetId);
  const bound = { ...grant, revision: row ? revisionOf(grant.kind, row) : "" };
  checkGrant(signedUrlKey(deps.config), bound, signature, Date.now());
  // `row` exists: a dataset that does not matched no signature above.
  return { grant: bound, signer: await checkSigner(deps, deps.store.db, bound, row!, clientIp) };
}

/**
 * That the grant's signer may still do what it grants, as it stands now in `db`
 * (`signerPrincipal`): upload to this dataset (`row`: its own, or others'), or download it.
 * @returns the signer.
 * @throws PERMISSION_DENIED (403), see `signerPrincipal`, or naming the action the signer no longer holds.
 */
async function checkSigner(deps: Deps, db: Db, grant: SignedGrant, row: DatasetRow, clientIp: string): Promise<Principal> {
  const signer = await signerPrincipal(deps, db, grant, clientIp);
  const action = grant.kind === "download" ? "datasets.download" : isCreator(signer.uid, row.creator_uid) ? "datasets.manageOwn" : "datasets.manageOthers";
  if (!holds(signer, action)) throw permissionDenied(`the principal that asked for this URL no longer holds "${action}": ask for a new URL`);
  return signer;
}

/**
 * The PUT to a signed upload URL (checked by `checkSignedUrl` first): the body, at most the size
 * signed into the URL and UTF-8 text, is stored as chunks of a fresh upload id, which becomes the
 * dataset's pending file (a PUT again replaces it, and only that replaced file's chunks are
 * deleted, so an `:upload` streaming meanwhile keeps its own). Its bytes count against
 * "dataset-storage-bytes" from then on (the dataset's `sizeBytes`), so unvalidated files cannot
 * store more than the quota; it is not validated: `:validateUpload` does that. The PUT, and any
 * refusal of it, is audited in the dataset's account as the URL's signer's act (its email, uid and
 * API key), as a cloud store logs a presigned request as its signer's.
 * @throws INVALID_ARGUMENT (400) for a body larger than signed, not UTF-8 (a truncated character at
 * its end included) or holding NUL; FAILED_PRECONDITION (400) when the dataset is not UPLOADING;
 * ABORTED (409) when the dataset was deleted and created again while the body arrived (the URL was
 * for the one deleted); CANCELLED (499) when the client went away first. `body` is the route's
 * refusal of the request's body (a form, another Content-Type) when it is an ApiError: thrown, and
 * audited, here.
 */
export async function putSignedFile(
  deps: Deps,
  meta: RequestMeta,
  { grant, signer }: SignedUse,
  body: AsyncIterable<Buffer> | ApiError,
  contentLength: number | undefined,
) {
  const { accountId, datasetId, filename } = grant;
  const actor = principalActor(signer, meta);
  const op = {
    method: "UploadDatasetFile",
    resource: datasetName(accountId, datasetId),
    payload: { filename, sizeBytes: contentLength ?? null },
    isAdminAction: false,
  };
  try {
    if (body instanceof ApiError) throw body;
    await storeSignedFile(deps, grant, body, contentLength, meta.clientIp, (trx, sizeBytes) =>
      writeAudit(trx, actor, { ...op, payload: { filename, sizeBytes } }),
    );
    return {};
  } catch (error) {
    await writeAudit(deps.store.db, actor, op, error);
    throw error;
  }
}

/** `putSignedFile`'s work: stores the body, then, in one transaction with `audit` (given its size in bytes), makes it the pending file. */
async function storeSignedFile(
  deps: Deps,
  grant: SignedGrant,
  body: AsyncIterable<Buffer>,
  contentLength: number | undefined,
  clientIp: string,
  audit: (trx: Transaction<Schema>, sizeBytes: number) => Promise<void>,
): Promise<void> {
  const { accountId, datasetId, filename } = grant;
  const declared = grant.size ?? 0;
  const db = deps.store.db;
  const resource = datasetName(accountId, datasetId);
  const tooLarge = () => invalidArgument(`the body is larger than the ${declared} bytes declared for "${filename}" at :getUploadEndpoint`);
  const notText = () => invalidArgument(`"${filename}" is not UTF-8 text: a dataset is JSONL`);
  const row = await getDatasetRow(db, accountId, datasetId);
  if (row.state !== "UPLOADING") throw failedPrecondition(`dataset "${resource}" is ${row.state}: its content cannot be replaced; create a new dataset`);
  if (contentLength !== undefined && contentLength > declared) throw tooLarge();
  const uploadId = randomUUID();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let received = 0;
  const chunks = chunkWriter(db, accountId, datasetId, uploadId);
  try {
    for await (const piece of body) {
      received += piece.length;
      if (received > declared) throw tooLarge();
      if (piece.includes(0)) throw invalidArgument(`"${filename}" holds a NUL byte: a dataset is JSONL text`);
      let text: string;
      try {
        text = decoder.decode(piece, { stream: true });
      } catch {
        throw notText();
      }
      await chunks.append(text);
    }
    // The end of the input: a character cut short there is not UTF-8 either.
    try {
      await chunks.append(decoder.decode());
    } catch {
      throw notText();
    }
    await chunks.flush();
    await deps.store.db.transaction().execute(async (trx) => {
      await lockAccount(deps.store, trx, accountId);
      const current = await getDatasetRow(trx, accountId, datasetId);
      if (String(current.create_time) !== grant.revision) {
        throw aborted(`dataset "${resource}" was deleted and created again while the file arrived: get a new URL from :getUploadEndpoint`);
      }
      if (current.state !== "UPLOADING") throw failedPrecondition(`dataset "${resource}" was completed by another upload meanwhile`);
      // The signer may have lost its rights while the body arrived (a long upload): checked again as the file lands.
      await checkSigner(deps, trx, grant, current, clientIp);
      await reserve(deps, trx, accountId, "dataset-storage-bytes", received - current.size_bytes);
      await datasets.updateDataset(trx, accountId, datasetId, { upload_id: uploadId, size_bytes: received, update_time: Date.now() });
      if (current.upload_id !== "") await datasets.deleteChunks(trx, accountId, datasetId, { only: current.upload_id });
      await audit(trx, received);
    });
  } catch (error) {
    await datasets.deleteChunks(db, accountId, datasetId, { only: uploadId }).catch(() => undefined);
    throw error;
  }
}

async function* asBuffers(text: AsyncIterable<string>): AsyncGenerator<Buffer> {
  for await (const piece of text) yield Buffer.from(piece);
}

/**
 * `:validateUpload`: validates the file PUT to the signed URL against the dataset's format, line by
 * line, and makes the dataset READY under the "dataset-storage-bytes" quota, exactly as `:upload`
 * does (a bad line is named by its number; the dataset then stays UPLOADING and the file may be PUT
 * again). Validating a READY dataset again answers `{}` without change.
 */
export async function validateUpload(deps: Deps, ctx: Ctx, accountId: string, datasetId: string): Promise<Record<string, never>> {
  const resource = datasetName(accountId, datasetId);
  const row = await auditRefusals(ctx, { method: "ValidateDatasetUpload", resource }, async () => {
    const found = await getDatasetRow(deps.store.db, accountId, datasetId);
    authorizeUpload(ctx, found);
    if (found.state === "UPLOADING" && found.upload_id === "") {
      throw failedPrecondition(`nothing was uploaded to dataset "${resource}": PUT its file to the URL :getUploadEndpoint returned, then validate`);
    }
    return found;
  });
  if (row.state === "READY") return {};
  const file = asBuffers(datasets.readChunks(deps.store.db, accountId, datasetId, row.upload_id));
  await uploadDataset(deps, ctx, accountId, datasetId, file, undefined, "ValidateDatasetUpload", row.upload_id);
  return {};
}

/**
 * The GET of a signed download URL (checked by `checkSignedUrl` first, which bound it to the upload
 * it was issued for): that JSONL, chunk by chunk (see `DatasetFile`).
 */
export async function readSignedFile(deps: Deps, grant: SignedGrant): Promise<DatasetFile> {
  return datasetFile(deps.store.db, await getDatasetRow(deps.store.db, grant.accountId, grant.datasetId));
}
