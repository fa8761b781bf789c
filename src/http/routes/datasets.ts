import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { invalidArgument } from "../../domain/errors.ts";
import { uploadDataset } from "../../service/dataset-upload.ts";
import { multipartFile } from "../multipart-file.ts";
import * as datasets from "../../service/datasets.ts";
import type { Router } from "../route.ts";
import { accountParams, id, listQuery, listRequest, plainText } from "../schemas.ts";
import { maskedFields } from "../update-mask.ts";

const datasetParams = accountParams.extend({ datasetId: id("dataset id") });
const datasetFields = z.object({ displayName: plainText().optional() });

/** Content types whose body reaches the handler as the raw stream (a dataset upload). */
const UPLOAD_CONTENT_TYPES = ["application/jsonl", "application/x-ndjson", "application/jsonlines", "application/octet-stream"];

const MULTIPART = "multipart/form-data";

/** Lets upload bodies (raw, or a form with a `file` field) stream past Fastify's body parsing and size limit (the upload has its own). */
export function registerUploadParser(app: FastifyInstance): void {
  app.addContentTypeParser([...UPLOAD_CONTENT_TYPES, MULTIPART], (_request, payload, done) => done(null, payload));
}

export function datasetRoutes(router: Router): void {
  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets",
    operationId: "ListDatasets",
    summary: "List the account's datasets",
    tag: "Datasets",
    params: accountParams,
    query: listQuery(50),
    handler: ({ deps, ctx, params, query }) => datasets.listDatasets(deps, ctx, params.accountId, listRequest(query, deps.config)),
  });

  router.add({
    method: "POST",
    url: "/v1/accounts/{accountId}/datasets",
    operationId: "CreateDataset",
    summary: "Create an empty dataset (state UPLOADING); upload its JSONL with :upload (quota: datasets)",
    tag: "Datasets",
    params: accountParams,
    query: z.object({ datasetId: z.string().optional() }),
    body: datasetFields.extend({ datasetId: z.string().optional(), dataset: datasetFields.optional() }),
    handler: ({ deps, ctx, params, query, body }) => {
      const { datasetId, dataset, ...flat } = body;
      return datasets.createDataset(deps, ctx, params.accountId, query.datasetId ?? datasetId, { ...flat, ...dataset });
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "GetDataset",
    summary: "Get a dataset",
    tag: "Datasets",
    params: datasetParams,
    handler: ({ deps, ctx, params }) => datasets.getDataset(deps, ctx, params.accountId, params.datasetId),
  });

  router.add({
    method: "PATCH",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "UpdateDataset",
    summary: "Rename a dataset (its creator, or a user or admin)",
    tag: "Datasets",
    params: datasetParams,
    query: z.object({ updateMask: z.string().optional() }),
    body: datasetFields.extend({ updateMask: z.string().optional() }),
    handler: ({ deps, ctx, params, query, body }) =>
      datasets.updateDataset(deps, ctx, params.accountId, params.datasetId, maskedFields(body, query.updateMask ?? body.updateMask, ["displayName"] as const)),
  });

  router.add({
    method: "DELETE",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}",
    operationId: "DeleteDataset",
    summary: "Delete a dataset and its content (its creator, or a user or admin)",
    tag: "Datasets",
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
    summary:
      "Upload the dataset's JSONL as the raw body (Content-Type: application/jsonl) or as the `file` field of a multipart/form-data body, streamed and validated line by line; the dataset becomes READY (quota: dataset-storage-bytes)",
    tag: "Datasets",
    params: datasetParams,
    streamedBody: {
      ...Object.fromEntries(UPLOAD_CONTENT_TYPES.map((type) => [type, { schema: { type: "string", format: "binary" } }])),
      [MULTIPART]: { schema: { type: "object", required: ["file"], properties: { file: { type: "string", format: "binary" } } } },
    },
    handler: async ({ deps, ctx, params, request, reply }) => {
      const body = request.body;
      if (!(body instanceof Readable)) {
        throw invalidArgument(
          `send the JSONL as the raw request body with Content-Type ${UPLOAD_CONTENT_TYPES[0]}, or as the "file" field of a ${MULTIPART} body`,
        );
      }
      const form = (request.headers["content-type"] ?? "").toLowerCase().startsWith(MULTIPART);
      const length = request.headers["content-length"];
      // A form's length is not the file's: the upload then counts the bytes itself.
      const contentLength = !form && length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
      try {
        const file = form ? await multipartFile(request.headers, body) : body;
        return await uploadDataset(deps, ctx, params.accountId, params.datasetId, file, contentLength);
      } catch (error) {
        // The rest of a refused body is not read: close the connection instead of draining it.
        void reply.header("connection", "close");
        throw error;
      }
    },
  });

  router.add({
    method: "GET",
    url: "/v1/accounts/{accountId}/datasets/{datasetId}:download",
    operationId: "DownloadDataset",
    summary: "The dataset's JSONL, streamed from the store",
    tag: "Datasets",
    params: datasetParams,
    handler: async ({ deps, ctx, params, reply }) => {
      const chunks = await datasets.readDataset(deps, ctx, params.accountId, params.datasetId);
      void reply.header("content-type", "application/jsonl; charset=utf-8");
      return Readable.from(chunks);
    },
  });
}
