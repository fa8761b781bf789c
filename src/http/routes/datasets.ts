import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../service/context.ts";
import { z } from "zod";
import { DATASET_FORMATS } from "../../domain/dataset-format.ts";
import { invalidArgument } from "../../domain/errors.ts";
import { uploadDataset } from "../../service/dataset-upload.ts";
import { clientBytes } from "../client-body.ts";
import { FORM_OVERHEAD_BYTES, multipartFile } from "../multipart-file.ts";
import * as datasets from "../../service/datasets.ts";
import type { DatasetFile } from "../../service/datasets.ts";
import type { Router } from "../route.ts";
import { accountParams, displayName, id, listQuery, listRequest, newId } from "../schemas.ts";
import { DECIMAL_DIGITS, wholeNumber } from "../../domain/whole-number.ts";
import { applyReadMask, applyReadMaskTo, fieldNames, readMaskParam, readMaskQuery } from "../read-mask.ts";
import { applyUpdateMask, type UpdateMaskSpec, updateMaskOf, updateMaskQuery } from "../update-mask.ts";
import { outputOnlyFields } from "../body-fields.ts";
import { empty, example } from "../resources/common.ts";
import { dataset, datasetContent, datasetList, datasetUpload, signedUrls } from "../resources/dataset.ts";
import { ApiError } from "../../domain/errors.ts";
import type { SignedGrant } from "../../domain/signed-url.ts";
import {
  checkSignedUrl,
  getDownloadEndpoint,
  getUploadEndpoint,
  putSignedFile,
  readSignedFile,
  validateUpload,
  type SignedUse,
} from "../../service/dataset-endpoints.ts";
import { failedAuthentication } from "../auth-failures.ts";
import { requestMeta } from "../request-meta.ts";
import { requestOrigin } from "../session-auth.ts";
import { mergeNested, sameValue } from "../same-value.ts";

const datasetParams = accountParams.extend({ datasetId: example(id("dataset id"), "my-dataset") });
const datasetFields = z.object({ displayName: displayName().optional() });
/**
 * At creation only: what each line will hold, checked at upload (FORMAT_UNSPECIFIED when not
 * given, as on Fireworks: the first example uploaded then sets it), and Fireworks' source `userUploaded` (`{}`: a file the user uploads with :upload, the
 * one source Hearth serves; the SDK's scripts send it). `exampleCount` is counted at upload:
 * accepted and ignored, as output-only fields are.
 */
const newDatasetFields = datasetFields.extend({
  format: z.enum(DATASET_FORMATS).optional(),
  userUploaded: z.object({}).optional().describe("The dataset's source: a file uploaded with :upload ({}), the only source Hearth serves"),
  ...outputOnlyFields("exampleCount"),
});

/** A dataset's fields, for `readMask` (AIP-157). */
const DATASET_FIELDS = fieldNames<Awaited<ReturnType<typeof datasets.getDataset>>>()({
  name: true,
  displayName: true,
  state: true,
  format: true,
  status: true,
  exampleCount: true,
  sizeBytes: true,
  userUploaded: true,
  createdBy: true,
  createTime: true,
  updateTime: true,
});

/** The fields of `:getUploadEndpoint`'s and `:getDownloadEndpoint`'s answer, for their `readMask` (AIP-157). */
const SIGNED_URLS_FIELDS = fieldNames<z.output<typeof signedUrls>>()({ filenameToSignedUrls: true });

/** `updateMask` (AIP-134): only the display name changes; cleared, it is empty. */
const DATASET_UPDATE: UpdateMaskSpec = { updatable: { displayName: { clear: "" } }, fields: DATASET_FIELDS };

/**
 * Content types whose body reaches the handler as the raw stream (a dataset upload). `text/plain`
 * is what a browser's or Node's `fetch` sends with a string body.
 */
const UPLOAD_CONTENT_TYPES = ["application/jsonl", "application/x-ndjson", "application/jsonlines", "text/plain", "application/octet-stream"];

const MULTIPART = "multipart/form-data";

/**
 * The text fields an upload form may hold beside its `file`, with the values each takes: `purpose`,
 * which OpenAI-style file clients send and the answer echoes (`"fine-tune"`, the only one served).
 */
const UPLOAD_FORM_FIELDS = { purpose: ["fine-tune"] } as const;

/** One example of chat fine-tuning data, as a line of JSONL. */
const JSONL_EXAMPLE = '{"messages":[{"role":"user","content":"Hello"},{"role":"assistant","content":"Hi! How can I help?"}]}\n';

/** The refusal of an upload whose Content-Type is none of the route's: it names each one it takes. */
function uploadTypeRefusal(given: string | undefined): string {
  const what = given ? `Content-Type ${JSON.stringify(given.slice(0, 100))}` : "a body without a Content-Type";
  return (
    `:upload does not take ${what}: send the JSONL as the raw body with Content-Type ${UPLOAD_CONTENT_TYPES.join(", ")} ` +
    `(curl --data-binary @train.jsonl -H 'Content-Type: application/jsonl'), or as the "file" field of a ${MULTIPART} body (curl -F file=@train.jsonl)`
  );
}

/** Lets upload bodies (raw, or a form with a `file` field) stream past Fastify's body parsing and size limit (the upload has its own). */
export function registerUploadParser(app: FastifyInstance): void {
  app.addContentTypeParser([...UPLOAD_CONTENT_TYPES, MULTIPART], (_request, payload, done) => done(null, payload));
}

/** `:upload`'s answer: the dataset and Fireworks' DatasetUploadResponse fields (see `datasetUpload`). */
function uploadAnswer(uploaded: Awaited<ReturnType<typeof uploadDataset>>, datasetId: string) {
  const createdAt = Math.floor(Date.parse(uploaded.createTime) / 1000);
  const file = { id: datasetId, bytes: Number(uploaded.sizeBytes), created_at: createdAt, filename: `${datasetId}.jsonl` };
  return { ...uploaded, ...file, object: "file" as const, purpose: "fine-tune" as const };
}

const fileParams = datasetParams.extend({ filename: example(z.string().min(1).max(255), "train.jsonl") });

/** A whole number of a signed URL, in decimal digits as it was signed (`0x78` is not 120). */
const signedNumber = (sample: string) => example(z.string().max(20).regex(DECIMAL_DIGITS, "must be a whole number in decimal digits"), sample);

/** A signed URL's query: the values `:getUploadEndpoint` or `:getDownloadEndpoint` signed (checked by the handler, 403 when they do not match). */
const signedQuery = z.object({
  size: signedNumber("120").optional(),
  issued: signedNumber("1764806400").optional(),
  expires: signedNumber("1764810000").optional(),
  signer: example(z.string().max(200), "key:key-1a2b3c4d").optional(),
  signature: example(z.string().max(100), "c2lnbmF0dXJl").optional(),
});

/**
 * Checks a signed URL; a refusal (forged, tampered, expired) is counted and audited as a failed
 * authentication on the dataset's account (see failedAuthentication), since the URL stands in for a credential.
 */
async function signedGrant(
  deps: Deps,
  request: FastifyRequest,
  operationId: string,
  grant: Omit<SignedGrant, "revision">,
  signature: string | undefined,
): Promise<SignedUse> {
  try {
    return await checkSignedUrl(deps, grant, signature, requestMeta(request).clientIp);
  } catch (error) {
    if (error instanceof ApiError) throw await failedAuthentication(deps, request, { operationId, accountId: grant.accountId }, error);
    throw error;
  }
}

/** The request's Content-Length in bytes, when it sent a well-formed one. */
function declaredLength(request: FastifyRequest): number | undefined {
  const length = request.headers["content-length"];
  return length === undefined ? undefined : wholeNumber(length);
}

/** Reads a request body with `read`; on a refusal the rest of the body is not read: the connection closes instead of draining it. */
async function closingOnRefusal<T>(reply: FastifyReply, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    void reply.header("connection", "close");
    throw error;
  }
}

/** Answers a dataset's JSONL with its length (Content-Length), so a download cut short is seen as cut, never as complete. */
function sendDatasetFile(reply: FastifyReply, file: DatasetFile): Readable {
  void reply.header("content-type", "application/jsonl; charset=utf-8");
  void reply.header("content-length", String(file.sizeBytes));
  return Readable.from(file.chunks);
}

export function datasetRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets",
    operationId: "ListDatasets",
    actions: ["datasets.list"],
    summary: "List the account's datasets",
    tag: "Datasets",
    response: datasetList,
    params: accountParams,
    query: listQuery(50, { readMask: DATASET_FIELDS }),
    handler: async ({ deps, ctx, params, query }) => {
      const page = await datasets.listDatasets(deps, ctx, params.accountId, listRequest(query, deps.config));
      return { ...page, datasets: applyReadMask(page.datasets, query.readMask) };
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/datasets",
    operationId: "CreateDataset",
    actions: ["datasets.create"],
    summary:
      "Create an empty dataset (state UPLOADING) whose lines are of a `format` (CHAT, COMPLETION or RL; FORMAT_UNSPECIFIED, the default, takes the format of the first example uploaded); upload its JSONL with :upload (quota: datasets)",
    tag: "Datasets",
    response: dataset,
    params: accountParams,
    query: z.object({ datasetId: example(newId("datasetId"), "my-dataset").optional() }),
    body: example(newDatasetFields.extend({ datasetId: newId("datasetId").optional(), dataset: newDatasetFields.optional() }), {
      displayName: "Greetings",
      format: "CHAT",
    }),
    handler: ({ deps, ctx, params, query, body }) => {
      // `userUploaded` names the one source there is: nothing to pass on.
      const { datasetId, dataset, userUploaded: _flat, ...flat } = body;
      const { userUploaded: _nested, ...nested } = dataset ?? {};
      const id = sameValue("datasetId", { "the query": query.datasetId, "the body": datasetId });
      return datasets.createDataset(deps, ctx, params.accountId, id, mergeNested(flat, nested, "dataset"));
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "GetDataset",
    actions: ["datasets.get"],
    summary: "Get a dataset",
    tag: "Datasets",
    response: dataset,
    params: datasetParams,
    query: readMaskQuery(DATASET_FIELDS),
    handler: async ({ deps, ctx, params, query }) => applyReadMaskTo(await datasets.getDataset(deps, ctx, params.accountId, params.datasetId), query.readMask),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "UpdateDataset",
    actions: ["datasets.manageOwn", "datasets.manageOthers"],
    summary: "Rename a dataset (its creator, or a user or admin)",
    tag: "Datasets",
    response: dataset,
    params: datasetParams,
    query: updateMaskQuery,
    // A client may send back the whole dataset it read: the fields set at creation (AIP-203
    // IMMUTABLE) are accepted only unchanged, the others are output-only here.
    body: example(
      datasetFields.extend({
        ...outputOnlyFields(...DATASET_FIELDS.filter((f) => !["displayName", "format", "userUploaded"].includes(f))),
        format: z.enum(DATASET_FORMATS).optional().describe("Immutable: accepted only unchanged"),
        userUploaded: z.object({}).optional().describe("Immutable: accepted only unchanged ({})"),
        updateMask: z.string().optional(),
      }),
      { displayName: "Greetings v2" },
    ),
    handler: ({ deps, ctx, params, query, body }) =>
      // `userUploaded` has one value, `{}`, the only one its schema takes: sent, it is unchanged.
      datasets.updateDataset(
        deps,
        ctx,
        params.accountId,
        params.datasetId,
        applyUpdateMask(DATASET_UPDATE, body, updateMaskOf(query.updateMask, body.updateMask)),
        { format: body.format },
      ),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "DeleteDataset",
    actions: ["datasets.manageOwn", "datasets.manageOthers"],
    summary: "Delete a dataset and its content (its creator, or a user or admin)",
    tag: "Datasets",
    response: empty,
    params: datasetParams,
    handler: async ({ deps, ctx, params }) => {
      await datasets.deleteDataset(deps, ctx, params.accountId, params.datasetId);
      return {};
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:upload",
    operationId: "UploadDataset",
    actions: ["datasets.manageOwn", "datasets.manageOthers"],
    summary:
      "Upload the dataset's JSONL as the raw body (Content-Type: application/jsonl) or as the one `file` part of a multipart/form-data body (beside it only `purpose`: `fine-tune`), streamed and validated line by line against the dataset's format; the dataset becomes READY (quota: dataset-storage-bytes)",
    tag: "Datasets",
    response: datasetUpload,
    params: datasetParams,
    streamedBody: {
      ...Object.fromEntries(UPLOAD_CONTENT_TYPES.map((type) => [type, { schema: { type: "string", format: "binary", examples: [JSONL_EXAMPLE] } }])),
      [MULTIPART]: {
        schema: {
          type: "object",
          required: ["file"],
          properties: { file: { type: "string", format: "binary" }, purpose: { type: "string", enum: UPLOAD_FORM_FIELDS.purpose } },
          additionalProperties: false,
        },
      },
    },
    handler: async ({ deps, ctx, params, request, reply }) => {
      const body = request.body;
      if (!(body instanceof Readable)) {
        // The body was not read: close the connection rather than drain it.
        void reply.header("connection", "close");
        throw invalidArgument(uploadTypeRefusal(request.headers["content-type"]));
      }
      const form = (request.headers["content-type"] ?? "").toLowerCase().startsWith(MULTIPART);
      return closingOnRefusal(reply, async () => {
        const formLimit = deps.config.platform.maxUploadBytes + FORM_OVERHEAD_BYTES;
        const file = form ? await multipartFile(request.headers, body, formLimit, UPLOAD_FORM_FIELDS) : clientBytes(body);
        // A form's length is not the file's: the upload then counts the bytes itself.
        const uploaded = await uploadDataset(deps, ctx, params.accountId, params.datasetId, file, form ? undefined : declaredLength(request));
        return uploadAnswer(uploaded, params.datasetId);
      });
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:download",
    operationId: "DownloadDataset",
    actions: ["datasets.download"],
    summary: "The dataset's JSONL, streamed from the store",
    tag: "Datasets",
    response: datasetContent,
    responseType: "application/jsonl",
    params: datasetParams,
    handler: async ({ deps, ctx, params, reply }) => {
      return sendDatasetFile(reply, await datasets.readDataset(deps, ctx, params.accountId, params.datasetId));
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:getUploadEndpoint",
    operationId: "GetDatasetUploadEndpoint",
    actions: ["datasets.manageOwn", "datasets.manageOthers"],
    summary:
      "A signed upload URL for the dataset's one file, valid for HEARTH_SIGNED_URL_TTL_SECONDS: PUT at most the declared bytes there without an API key, then call :validateUpload",
    tag: "Datasets",
    response: signedUrls,
    params: datasetParams,
    body: example(
      z.object({
        filenameToSize: z.record(z.string(), z.union([z.string().max(20), z.number().int()])),
        readMask: readMaskParam(SIGNED_URLS_FIELDS),
      }),
      { filenameToSize: { "train.jsonl": "120" } },
    ),
    handler: async ({ deps, ctx, params, body, request }) => {
      const sizes = Object.fromEntries(Object.entries(body.filenameToSize).map(([name, size]) => [name, String(size)]));
      const urls = await getUploadEndpoint(deps, ctx, params.accountId, params.datasetId, sizes, requestOrigin(request, deps.config.publicUrl));
      return applyReadMaskTo(urls, body.readMask);
    },
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:validateUpload",
    operationId: "ValidateDatasetUpload",
    actions: ["datasets.manageOwn", "datasets.manageOthers"],
    summary:
      "Validate the file PUT to the signed upload URL line by line against the dataset's format, then make the dataset READY (quota: dataset-storage-bytes); a bad line is named by its number",
    tag: "Datasets",
    response: empty,
    params: datasetParams,
    body: example(z.object({}), {}),
    handler: ({ deps, ctx, params }) => validateUpload(deps, ctx, params.accountId, params.datasetId),
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:getDownloadEndpoint",
    operationId: "GetDatasetDownloadEndpoint",
    actions: ["datasets.download"],
    summary: "A signed download URL for a READY dataset's JSONL, valid for HEARTH_SIGNED_URL_TTL_SECONDS (GET it without an API key)",
    tag: "Datasets",
    response: signedUrls,
    params: datasetParams,
    query: z.object({
      // Fireworks signs the URLs of every dataset of the lineage chain; a Hearth dataset has none (it
      // holds the one file uploaded to it), so only the dataset itself (false) can be served.
      downloadLineage: z
        .enum(["true", "false"], { error: "downloadLineage must be true or false" })
        .optional()
        .refine((v) => v !== "true", "downloadLineage=true is not served: a Hearth dataset has no lineage (it holds one uploaded file); omit it or send false")
        .meta({ description: "Fireworks' whole lineage chain: only false (the default) is served, as a Hearth dataset has no lineage" }),
      readMask: readMaskParam(SIGNED_URLS_FIELDS),
    }),
    handler: async ({ deps, ctx, params, query, request }) =>
      applyReadMaskTo(await getDownloadEndpoint(deps, ctx, params.accountId, params.datasetId, requestOrigin(request, deps.config.publicUrl)), query.readMask),
  });

  router.add({
    method: "PUT",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}/files/{filename}",
    operationId: "PutSignedDatasetFile",
    summary:
      "The signed upload URL :getUploadEndpoint returned: PUT the file's bytes (at most the declared size) as the raw body; authorized by the URL's signature until it expires (403 otherwise)",
    tag: "Datasets",
    auth: false,
    response: empty,
    params: fileParams,
    query: signedQuery,
    streamedBody: Object.fromEntries(UPLOAD_CONTENT_TYPES.map((type) => [type, { schema: { type: "string", format: "binary", examples: [JSONL_EXAMPLE] } }])),
    handler: async ({ deps, params, query, request, reply }) => {
      const body = request.body;
      return closingOnRefusal(reply, async () => {
        const use = await signedGrant(
          deps,
          request,
          "PutSignedDatasetFile",
          { kind: "upload", ...params, size: Number(query.size), issued: Number(query.issued), expires: Number(query.expires), signer: query.signer ?? "" },
          query.signature,
        );
        // A PUT without a Content-Type (`curl -T`, Python's requests.put) is the raw file too: Fastify left it unread.
        // A form is not: its boundaries would be stored as the file. A refusal is audited as the PUT.
        const type = request.headers["content-type"];
        const form = (type ?? "").toLowerCase().startsWith(MULTIPART);
        const file = form ? undefined : body instanceof Readable ? body : type === undefined ? request.raw : undefined;
        const refusal = invalidArgument(
          `send the file as the raw body, without a Content-Type or with ${UPLOAD_CONTENT_TYPES.join(", ")}${form ? " (not as a form)" : ""}`,
        );
        return putSignedFile(deps, requestMeta(request), use, file ? clientBytes(file) : refusal, declaredLength(request));
      });
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}/files/{filename}",
    operationId: "GetSignedDatasetFile",
    summary: "The signed download URL :getDownloadEndpoint returned: the dataset's JSONL; authorized by the URL's signature until it expires (403 otherwise)",
    tag: "Datasets",
    auth: false,
    response: datasetContent,
    responseType: "application/jsonl",
    params: fileParams,
    query: signedQuery,
    handler: async ({ deps, params, query, request, reply }) => {
      const { grant } = await signedGrant(
        deps,
        request,
        "GetSignedDatasetFile",
        { kind: "download", ...params, issued: Number(query.issued), expires: Number(query.expires), signer: query.signer ?? "" },
        query.signature,
      );
      return sendDatasetFile(reply, await readSignedFile(deps, grant));
    },
  });
}
