import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow, WebhookRow } from "./schema.ts";
import type { Db } from "./store.ts";
import { insertUnique } from "./errors.ts";
import { listPage, type ListRequest, type ListResult, type ListTable } from "./list.ts";
import { nameField } from "./filter-sql.ts";
import { withFolded } from "./folded-columns.ts";
import { collectionName } from "../domain/resource-names.ts";

/**
 * Inserts a webhook; the caller has reserved the account's "webhooks" quota in the same transaction.
 * @throws ALREADY_EXISTS (409) when the id is taken.
 */
export async function insertWebhook(db: Db, row: WebhookRow): Promise<void> {
  await insertUnique(
    () =>
      db
        .insertInto("webhooks")
        .values(withFolded(row, ["display_name"]))
        .execute(),
    `webhook "${row.id}" already exists`,
  );
}

export function getWebhook(db: Db, accountId: string, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom("webhooks").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}

const webhooksTable = (accountId: string): ListTable => ({
  fields: {
    name: nameField(collectionName(accountId, "webhooks")),
    display_name: { column: "display_name", type: "string", folded: true },
    url: { column: "url", type: "string" },
    state: { column: "state", type: "enum", values: ["ENABLED", "DISABLED"] },
    create_time: { column: "create_time", type: "timestamp" },
    update_time: { column: "update_time", type: "timestamp" },
  },
  order: { name: "id", display_name: "display_name", create_time: "create_time", update_time: "update_time" },
  defaultOrderBy: "name",
  idColumn: "id",
});

/** One page (AIP-158) of the account's webhooks matching `req.filter` (AIP-160: name, display_name, url, state, create_time, update_time). */
export function listWebhookPage(db: Db, accountId: string, req: ListRequest): Promise<ListResult<WebhookRow>> {
  return listPage<WebhookRow>(db.selectFrom("webhooks").where("account_id", "=", accountId), webhooksTable(accountId), req);
}

export type WebhookPatch = Partial<
  Pick<WebhookRow, "display_name" | "url" | "events" | "state" | "secret" | "previous_secret" | "previous_secret_expire_time">
> & {
  update_time: number;
};

export async function updateWebhook(db: Db, accountId: string, id: string, patch: WebhookPatch): Promise<void> {
  await db
    .updateTable("webhooks")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
}

/**
 * Applies `patch` (a rotation's new secrets) only while the webhook's sealed secret is still
 * `current`, the one the rotation read; false when another rotation changed it first.
 */
export async function replaceWebhookSecret(db: Db, accountId: string, id: string, current: string, patch: WebhookPatch): Promise<boolean> {
  const result = await db
    .updateTable("webhooks")
    .set(withFolded(patch, ["display_name"]))
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .where("secret", "=", current)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes a webhook with its deliveries and their attempts (the foreign keys cascade). */
export async function deleteWebhook(db: Db, accountId: string, id: string): Promise<void> {
  await db.deleteFrom("webhooks").where("account_id", "=", accountId).where("id", "=", id).execute();
}

const DELIVERY_STATES = ["PENDING", "SUCCEEDED", "FAILED"] as const;

/** ListWebhookDeliveries' filter fields (AIP-160: `state`, `create_time`) and order (newest first). */
const deliveriesTable: ListTable = {
  fields: { state: { column: "state", type: "enum", values: DELIVERY_STATES }, create_time: { column: "create_time", type: "timestamp" } },
  order: { create_time: "create_time" },
  defaultOrderBy: "create_time desc",
  idColumn: "id",
};

/** One page of a webhook's deliveries (AIP-158 paging, AIP-160 filter), newest first. */
export function listDeliveryPage(db: Db, accountId: string, webhookId: string, req: ListRequest): Promise<ListResult<WebhookDeliveryRow>> {
  return listPage<WebhookDeliveryRow>(
    db.selectFrom("webhook_deliveries").where("account_id", "=", accountId).where("webhook_id", "=", webhookId),
    deliveriesTable,
    req,
  );
}

/** The type and body of each event in `ids`, by id. */
export async function eventsById(db: Db, ids: string[]): Promise<Map<string, Pick<WebhookEventRow, "type" | "data">>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("webhook_events").select(["id", "type", "data"]).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Every attempt of the deliveries in `ids`, grouped by delivery, in attempt order. */
export async function attemptsOf(db: Db, ids: string[]): Promise<Map<string, WebhookAttemptRow[]>> {
  const found = new Map<string, WebhookAttemptRow[]>();
  if (ids.length === 0) return found;
  const rows = await db.selectFrom("webhook_attempts").selectAll().where("delivery_id", "in", ids).orderBy("delivery_id").orderBy("attempt").execute();
  for (const row of rows) found.set(row.delivery_id, [...(found.get(row.delivery_id) ?? []), row]);
  return found;
}

export function getDelivery(db: Db, accountId: string, webhookId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("webhook_id", "=", webhookId)
    .where("id", "=", id)
    .executeTakeFirst();
}

/**
 * Makes a delivery PENDING again, due at `now`, its retry window and backoff begun afresh (a
 * redelivery by hand: its deadline is set by its next attempt, and its retries start again from the
 * base delay); `attempt_count` keeps counting, so the log's attempt numbers go on.
 * A lease held on it stays: an attempt in flight finishes first.
 */
export async function requeueDelivery(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({ state: "PENDING", next_attempt_time: now, deadline_time: 0, backoff_attempt_count: 0, update_time: now })
    .where("id", "=", id)
    .execute();
}
