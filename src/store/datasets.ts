import { nameField } from "./filter-sql.ts";
import type { DatasetRow } from "./platform-rows.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";

const DATASET_STATES = ["UPLOADING", "READY"] as const;

export function getDataset(db: Db, accountId: string, datasetId: string): Promise<DatasetRow | undefined> {
  return db.selectFrom("datasets").selectAll().where("account_id", "=", accountId).where("id", "=", datasetId).executeTakeFirst();
}

export async function insertDataset(db: Db, row: DatasetRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("datasets")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `dataset "${row.id}" already exists`,
  );
}

export type DatasetPatch = Partial<Pick<DatasetRow, "display_name" | "state" | "format" | "example_count" | "size_bytes" | "upload_id">>;

export async function updateDataset(db: Db, accountId: string, datasetId: string, patch: DatasetPatch & { update_time: number }): Promise<void> {
  await db
    .updateTable("datasets")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", datasetId)
    .execute();
}

/** Deletes a dataset and every chunk stored for it (of any upload). */
export async function deleteDataset(db: Db, accountId: string, datasetId: string): Promise<void> {
  await db.deleteFrom("dataset_chunks").where("account_id", "=", accountId).where("dataset_id", "=", datasetId).execute();
  await db.deleteFrom("datasets").where("account_id", "=", accountId).where("id", "=", datasetId).execute();
}

export async function datasetTotals(db: Db, accountId: string): Promise<{ count: number; bytes: number }> {
  const r = await db
    .selectFrom("datasets")
    .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum<number | string | null>("size_bytes").as("bytes")])
    .where("account_id", "=", accountId)
    .executeTakeFirstOrThrow();
  return { count: Number(r.n), bytes: Number(r.bytes ?? 0) };
}

export async function insertChunk(db: Db, accountId: string, datasetId: string, uploadId: string, seq: number, data: string): Promise<void> {
  await db.insertInto("dataset_chunks").values({ account_id: accountId, dataset_id: datasetId, upload_id: uploadId, seq, data }).execute();
}

/** Removes the chunks of one upload (a refused or abandoned one), or of every upload but `keep`. */
export async function deleteChunks(db: Db, accountId: string, datasetId: string, upload: { only: string } | { except: string }): Promise<void> {
  let q = db.deleteFrom("dataset_chunks").where("account_id", "=", accountId).where("dataset_id", "=", datasetId);
  q = "only" in upload ? q.where("upload_id", "=", upload.only) : q.where("upload_id", "<>", upload.except);
  await q.execute();
}

/** The chunks of one upload in order, fetched a few at a time. */
export async function* readChunks(db: Db, accountId: string, datasetId: string, uploadId: string): AsyncGenerator<string> {
  for (let seq = 0; ;) {
    const rows = await db
      .selectFrom("dataset_chunks")
      .select(["seq", "data"])
      .where("account_id", "=", accountId)
      .where("dataset_id", "=", datasetId)
      .where("upload_id", "=", uploadId)
      .where("seq", ">=", seq)
      .orderBy("seq")
      .limit(8)
      .execute();
    if (rows.length === 0) return;
    for (const r of rows) yield r.data;
    seq = rows.at(-1)!.seq + 1;
  }
}

function datasetsTable(accountId: string): ListTable {
  return {
    fields: {
      name: nameField(collectionName(accountId, "datasets")),
      dataset_id: { column: "id", type: "string" },
      display_name: { column: "display_name", type: "string", folded: true },
      state: { column: "state", type: "enum", values: DATASET_STATES },
      created_by: { column: "created_by", type: "string", normalize: (v) => v.toLowerCase() },
      create_time: { column: "create_time", type: "timestamp" },
      update_time: { column: "update_time", type: "timestamp" },
    },
    order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
    defaultOrderBy: "name",
    idColumn: "id",
  };
}

export function listDatasets(db: Db, accountId: string, req: ListRequest): Promise<ListResult<DatasetRow>> {
  return listPage<DatasetRow>(db.selectFrom("datasets").where("account_id", "=", accountId), datasetsTable(accountId), req);
}
