import { sql, type Kysely } from "kysely";
import { dialectOf } from "./dialect-of.ts";
import type { Db } from "./store.ts";
import type { Dialect, Schema, WebhookDeliveryRow, WebhookEventRow, WebhookRow } from "./schema.ts";

/**
 * The account's ENABLED webhooks subscribed to `type` (ids). Events are matched here, in the caller's
 * transaction. On PostgreSQL the rows are locked against deletion (FOR KEY SHARE) until it commits: a
 * webhook deleted meanwhile is waited for and left out, rather than failing the deliveries' foreign
 * key (a 500 for the change that queued the event, a leak report's disable among them).
 */
export async function subscribedWebhooks(db: Db, accountId: string, type: string): Promise<string[]> {
  const rows = await db
    .selectFrom("webhooks")
    .select(["id", "events"])
    .where("account_id", "=", accountId)
    .where("state", "=", "ENABLED")
    .$if(dialectOf(db) === "postgres", (q) => q.forKeyShare())
    .execute();
  return rows.filter((r) => (JSON.parse(r.events) as string[]).includes(type)).map((r) => r.id);
}

/** Writes an event to the outbox and one PENDING delivery of it per webhook. */
export async function insertEvent(db: Db, event: WebhookEventRow, deliveries: WebhookDeliveryRow[]): Promise<void> {
  await db.insertInto("webhook_events").values(event).execute();
  if (deliveries.length > 0) await db.insertInto("webhook_deliveries").values(deliveries).execute();
}

/** A claimed delivery, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  account_id: string;
  webhook_id: string;
  event_id: string;
  /** Every attempt made so far, redeliveries included. */
  attempt_count: number;
  /** The attempts since the delivery was queued or last redelivered: what its backoff doubles on. */
  backoff_attempt_count: number;
  deadline_time: number;
  create_time: number;
}

/** How many deliveries a claim may take, in all and per account. */
export interface ClaimLimits {
  /** The most deliveries taken. */
  limit: number;
  /** The most deliveries of one account under a live lease at once, those already held (by any process) included. */
  perAccount: number;
}

/**
 * The ids of the due deliveries to claim next, fairly: due PENDING deliveries with a free or lapsed
 * lease; of each webhook only its oldest due one, and none while another of that webhook is under a
 * live lease (a webhook's deliveries go one at a time, oldest first, across processes); of each
 * account at most `perAccount` under a live lease; and in rounds across accounts — every account's
 * oldest before any account's second — oldest first within a round. One account's backlog or slow
 * receiver thus never holds back another account's deliveries.
 */
async function fairCandidates(db: Db, now: number, { limit, perAccount }: ClaimLimits): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    with leased as (
      select account_id, webhook_id from webhook_deliveries where state = 'PENDING' and lease_expire_time >= ${now}
    ),
    due as (
      select d.id, d.account_id, d.next_attempt_time,
        row_number() over (partition by d.account_id, d.webhook_id order by d.next_attempt_time, d.id) as in_webhook
      from webhook_deliveries d
      where d.state = 'PENDING' and d.next_attempt_time <= ${now} and d.lease_expire_time < ${now}
        and not exists (select 1 from leased l where l.account_id = d.account_id and l.webhook_id = d.webhook_id)
    ),
    heads as (
      select id, account_id, next_attempt_time,
        row_number() over (partition by account_id order by next_attempt_time, id) as in_account
      from due where in_webhook = 1
    )
    select h.id from heads h
    where h.in_account + (select count(*) from leased l where l.account_id = h.account_id) <= ${perAccount}
    order by h.in_account, h.next_attempt_time, h.id
    limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Claims due deliveries chosen by `fairCandidates` (at most `limits.limit`, `limits.perAccount`
 * per account): sets their lease to `owner` until `leaseUntil` (epoch ms). Each is re-checked as
 * it is claimed (still PENDING, due, its lease free), so a delivery another process claimed
 * meanwhile is dropped; on PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so
 * processes claiming at once take disjoint rows; SQLite runs one writer at a time.
 */
export async function claimDueDeliveries(
  db: Db,
  dialect: Dialect,
  owner: string,
  now: number,
  leaseUntil: number,
  limits: ClaimLimits,
): Promise<ClaimedDelivery[]> {
  const ids = await fairCandidates(db, now, limits);
  if (ids.length === 0) return [];
  return db
    .updateTable("webhook_deliveries")
    .set({ lease_owner: owner, lease_expire_time: leaseUntil })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("id", "in", ids)
        .where("state", "=", "PENDING")
        .where("next_attempt_time", "<=", now)
        .where("lease_expire_time", "<", now)
        .$if(dialect === "postgres", (q) => q.forUpdate().skipLocked()),
    )
    .where("state", "=", "PENDING")
    .where("lease_expire_time", "<", now)
    .returning(["id", "account_id", "webhook_id", "event_id", "attempt_count", "backoff_attempt_count", "deadline_time", "create_time"])
    .execute();
}

/** What an attempt came to, and what becomes of the delivery. */
export interface AttemptOutcome {
  attemptTime: number;
  responseCode: number;
  error: string;
  durationMs: number;
  state: "PENDING" | "SUCCEEDED" | "FAILED";
  nextAttemptTime: number | null;
  deadlineTime: number;
}

/**
 * Records an attempt of a delivery `owner` holds the lease of (counted in `attempt_count` and
 * `backoff_attempt_count`), and releases the lease, in one transaction; nothing is written when
 * the lease was lost (another process then owns the row).
 */
export async function finishAttempt(db: Kysely<Schema>, id: string, owner: string, outcome: AttemptOutcome): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable("webhook_deliveries")
      .set((eb) => ({
        attempt_count: eb("attempt_count", "+", 1),
        backoff_attempt_count: eb("backoff_attempt_count", "+", 1),
        state: outcome.state,
        next_attempt_time: outcome.nextAttemptTime,
        deadline_time: outcome.deadlineTime,
        response_code: outcome.responseCode,
        lease_owner: "",
        lease_expire_time: 0,
        update_time: outcome.attemptTime,
      }))
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .returning("attempt_count")
      .executeTakeFirst();
    if (!updated) return;
    await trx
      .insertInto("webhook_attempts")
      .values({
        delivery_id: id,
        attempt: updated.attempt_count,
        attempt_time: outcome.attemptTime,
        response_code: outcome.responseCode,
        error: outcome.error,
        duration_ms: outcome.durationMs,
      })
      .execute();
  });
}

/** What a claimed delivery is sent to and with: its webhook's URL, state and sealed secrets, and the event's body. */
export interface DeliveryTarget extends Pick<WebhookRow, "url" | "state" | "secret" | "previous_secret" | "previous_secret_expire_time"> {
  data: string;
}

/** The target of a claimed delivery; undefined when its webhook or event is gone. */
export async function deliveryTarget(db: Db, delivery: ClaimedDelivery): Promise<DeliveryTarget | undefined> {
  return db
    .selectFrom("webhook_deliveries")
    .innerJoin("webhooks", (join) =>
      join.onRef("webhooks.account_id", "=", "webhook_deliveries.account_id").onRef("webhooks.id", "=", "webhook_deliveries.webhook_id"),
    )
    .innerJoin("webhook_events", "webhook_events.id", "webhook_deliveries.event_id")
    .select([
      "webhooks.url as url",
      "webhooks.state as state",
      "webhooks.secret as secret",
      "webhooks.previous_secret as previous_secret",
      "webhooks.previous_secret_expire_time as previous_secret_expire_time",
      "webhook_events.data as data",
    ])
    .where("webhook_deliveries.id", "=", delivery.id)
    .executeTakeFirst();
}

/**
 * Records that notice `notice` about `subject` is sent, at `now`: true when this call is the one
 * that records it (insert on a primary key, so among concurrent processes exactly one wins) — or,
 * with `againAfterMs`, when the notice was last sent at least that long ago.
 */
export async function claimNotice(db: Db, subject: string, notice: string, now: number, againAfterMs?: number): Promise<boolean> {
  const inserted = await db
    .insertInto("webhook_notices")
    .values({ subject, notice, sent_time: now })
    .onConflict((oc) => oc.columns(["subject", "notice"]).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
  if (againAfterMs === undefined) return false;
  const updated = await db
    .updateTable("webhook_notices")
    .set({ sent_time: now })
    .where("subject", "=", subject)
    .where("notice", "=", notice)
    .where("sent_time", "<=", now - againAfterMs)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Keys of any account whose expire_time is in (from, to] and that have no notice `notice` yet, at most `limit`. */
export async function keysDueNotice(db: Db, notice: string, from: number, to: number, limit: number) {
  return db
    .selectFrom("api_keys")
    .select(["id", "account_id", "user_id", "display_name", "expire_time"])
    .where("expire_time", ">", from)
    .where("expire_time", "<=", to)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("webhook_notices").select("subject").whereRef("webhook_notices.subject", "=", "api_keys.id").where("webhook_notices.notice", "=", notice),
        ),
      ),
    )
    .orderBy("expire_time")
    .limit(limit)
    .execute();
}

/** Gives up `owner`'s lease of a delivery without recording an attempt (a process shutting down mid-attempt). */
export async function releaseLease(db: Db, id: string, owner: string): Promise<void> {
  await db.updateTable("webhook_deliveries").set({ lease_owner: "", lease_expire_time: 0 }).where("id", "=", id).where("lease_owner", "=", owner).execute();
}

/** Ids of the accounts with an ENABLED webhook subscribed to `type`. */
export async function accountsSubscribedTo(db: Db, type: string): Promise<string[]> {
  const rows = await db.selectFrom("webhooks").select(["account_id", "events"]).where("state", "=", "ENABLED").execute();
  return [...new Set(rows.filter((r) => (JSON.parse(r.events) as string[]).includes(type)).map((r) => r.account_id))];
}

/**
 * Deletes up to `limit` events written before `before` (epoch milliseconds) with none of their
 * deliveries PENDING, and with them their deliveries and attempts (the foreign keys cascade); returns how many.
 */
export async function pruneEvents(db: Db, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("webhook_events")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("webhook_events")
        .select("id")
        .where("create_time", "<", before)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("webhook_deliveries")
                .select("webhook_deliveries.id")
                .whereRef("webhook_deliveries.event_id", "=", "webhook_events.id")
                .where("webhook_deliveries.state", "=", "PENDING"),
            ),
          ),
        )
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
