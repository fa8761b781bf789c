import { Kysely, SqliteDialect, sql } from "kysely";
import { withFolded } from "./folded-columns.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { modelFilterFields } from "./models.ts";
import { NodeSqliteDatabase } from "./sqlite-database.ts";

/** What the public catalogue's list filters and orders on: a public model's id and searchable fields. */
interface CatalogueRow {
  id: string;
  display_name: string;
  display_name_folded: string;
  backend: string;
  upstream_model: string;
}

interface CatalogueSchema {
  public_models: CatalogueRow;
}

/** A public model as the catalogue's list reads it (`PlatformConfig.publicModels`). */
export interface CatalogueModel {
  readonly id: string;
  readonly displayName: string;
  readonly backend: string;
  readonly upstreamModel: string;
}

/**
 * The operator's public catalogue (HEARTH_CONFIG) as a table of an in-memory SQLite database,
 * built once per configuration: listing it then takes the filters (AIP-160, store/filter-sql.ts),
 * orders and signed page tokens (store/list.ts) of every stored list, on either store's dialect.
 */
const catalogues = new WeakMap<ReadonlyMap<string, CatalogueModel>, Promise<Kysely<CatalogueSchema>>>();

async function buildCatalogue(models: ReadonlyMap<string, CatalogueModel>): Promise<Kysely<CatalogueSchema>> {
  const db = new Kysely<CatalogueSchema>({ dialect: new SqliteDialect({ database: new NodeSqliteDatabase(":memory:") }) });
  await sql`create table public_models (
    id text primary key,
    display_name text not null,
    display_name_folded text not null,
    backend text not null,
    upstream_model text not null
  )`.execute(db);
  for (const m of models.values()) {
    const row = { id: m.id, display_name: m.displayName, backend: m.backend, upstream_model: m.upstreamModel };
    await db
      .insertInto("public_models")
      .values(withFolded(row, ["display_name"]))
      .execute();
  }
  return db;
}

/**
 * The public catalogue's filter fields: those of an account's model list that a public model has
 * (`name` under `accounts/{publicAccountId}/models`, `model_id`, `display_name`, `backend`,
 * `upstream_model`; it has no creator nor times), ordered by `name` or `display_name`.
 */
function catalogueTable(publicAccountId: string): ListTable {
  return {
    fields: modelFilterFields(publicAccountId),
    order: { name: "id", display_name: "display_name" },
    defaultOrderBy: "name",
    idColumn: "id",
  };
}

/**
 * One page (AIP-158) of the public models matching `req.filter` (AIP-160), as their ids in the
 * page's order. A page token continues only this list, with the same filter and order.
 * @throws INVALID_ARGUMENT for a bad filter, orderBy or pageToken.
 */
export async function listPublicModelIds(publicAccountId: string, models: ReadonlyMap<string, CatalogueModel>, req: ListRequest): Promise<ListResult<string>> {
  let catalogue = catalogues.get(models);
  if (!catalogue) catalogues.set(models, (catalogue = buildCatalogue(models)));
  const db = await catalogue;
  const page = await listPage<CatalogueRow>(db.selectFrom("public_models"), catalogueTable(publicAccountId), req);
  return { ...page, rows: page.rows.map((row) => row.id) };
}
