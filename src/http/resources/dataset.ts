/**
 * @module The Dataset resource as the API returns it.
 */
import { z } from "zod";
import { DATASET_FORMATS } from "../../domain/dataset-format.ts";
import { listPage, status, timestamp } from "./common.ts";

/** A JSONL dataset (`accounts/{accountId}/datasets/{datasetId}`); counts are decimal strings (int64 in protobuf JSON). */
export const dataset = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account/datasets/my-dataset"] }),
    displayName: z.string(),
    /** UPLOADING until its content is uploaded, then READY. */
    state: z.string().meta({ examples: ["READY"] }),
    /** What each line holds (Fireworks' Dataset.format): CHAT `{"messages": […]}` or COMPLETION `{"prompt", "completion"}`. */
    format: z.enum(DATASET_FORMATS),
    status,
    exampleCount: z.string().meta({ examples: ["1"] }),
    sizeBytes: z.string().meta({ examples: ["61"] }),
    /** Fireworks' source of the dataset's data: always a file the user uploads (`{}`). */
    userUploaded: z.object({}),
    createdBy: z.string(),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "Dataset" });
export type Dataset = z.output<typeof dataset>;

export const datasetList = listPage("datasets", dataset).meta({ id: "ListDatasetsResponse" });

/** `:download`: the dataset's JSONL, one example per line. */
export const datasetContent = z.string().meta({ description: "JSONL: one JSON object per line" });

/**
 * `:upload`'s answer: the Dataset, plus the fields of Fireworks' DatasetUploadResponse (an
 * OpenAI-style file object): `id` (the dataset id), `bytes`, `created_at` (Unix seconds),
 * `filename`, `object` ("file") and `purpose` ("fine-tune").
 */
export const datasetUpload = dataset
  .extend({
    id: z.string().meta({ examples: ["my-dataset"] }),
    bytes: z
      .number()
      .int()
      .meta({ examples: [61] }),
    created_at: z
      .number()
      .int()
      .meta({ examples: [1764806400] }),
    filename: z.string().meta({ examples: ["train.jsonl"] }),
    object: z.literal("file"),
    purpose: z.literal("fine-tune"),
  })
  .meta({ id: "UploadDatasetResponse" });

/** `:getUploadEndpoint` and `:getDownloadEndpoint`: a signed, expiring URL per file name (Fireworks' `filenameToSignedUrls`). */
export const signedUrls = z
  .object({
    filenameToSignedUrls: z.record(z.string(), z.string()).meta({
      examples: [
        { "train.jsonl": "https://hearth.example.com/v1/accounts/my-account/datasets/my-dataset/files/train.jsonl?size=120&expires=1764810000&signature=…" },
      ],
    }),
  })
  .meta({ id: "DatasetSignedUrls" });
