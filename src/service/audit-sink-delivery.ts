/**
 * @module Delivery of audit sinks: each process leases due sinks and sends their next entries in
 * chain order, in batches, moving the sink's durable cursor only when the receiver acknowledged a
 * batch (2xx) — every entry at least once, in order per account, across restarts and processes.
 * A failed batch is retried after 1 s, doubling up to 60 s (docs/audit-log.md).
 */
import { randomUUID } from "node:crypto";
import { open } from "../domain/secret-box.ts";
import { accountName } from "../domain/resource-names.ts";
import { chainRows, linkOf, type ChainedRow } from "../store/audit-chain.ts";
import { leaseDueSinks, recordSinkOutcome } from "../store/audit-sinks.ts";
import type { AuditSinkRow } from "../store/schema.ts";
import { getWebhook } from "../store/webhooks.ts";
import { sinkTokenContext } from "./audit-sinks.ts";
import type { Deps } from "./context.ts";
import { outboundOf } from "./outbound-fetch.ts";
import { serverKey } from "./server-key.ts";
import { secretContext, webhookSignature } from "./webhooks.ts";

/** Entries per batch (one request). */
const BATCH = 100;
/** Batches one lease sends before giving other sinks their turn. */
const BATCHES_PER_LEASE = 5;
const REQUEST_TIMEOUT_MS = 10_000;
/** A lease outlasts the batches it sends (each at most REQUEST_TIMEOUT_MS), so no two processes send one sink's batches at once. */
const LEASE_MS = 2 * BATCHES_PER_LEASE * REQUEST_TIMEOUT_MS;

const backoff = (attempts: number): number => Math.min(1000 * 2 ** (attempts - 1), 60_000);

/** A request to send one batch: URL and init, or why it cannot be sent. */
async function request(deps: Deps, sink: AuditSinkRow, rows: ChainedRow[]): Promise<{ url: string; init: RequestInit } | string> {
  const entries = rows.map(linkOf);
  if (sink.type === "WEBHOOK") {
    const webhook = await getWebhook(deps.store.db, sink.account_id, sink.webhook_id);
    if (!webhook) return `webhook "${sink.webhook_id}" no longer exists`;
    if (webhook.state !== "ENABLED") return `webhook "${sink.webhook_id}" is ${webhook.state}`;
    const secret = open(serverKey(deps.config), webhook.secret, secretContext(sink.account_id, sink.webhook_id));
    if (secret === undefined) return "the webhook's signing secret does not open under this server's key";
    // The same id for the same entries on every retry: a receiver may drop what it already has.
    const id = `audit_${sink.account_id}_${sink.id}_${entries[0]!.seq}_${entries.at(-1)!.seq}`;
    // The real time, not the service clock: receivers check it against theirs (Standard Webhooks' replay window).
    const sentAt = new Date();
    const body = JSON.stringify({ type: "audit.entry", timestamp: sentAt.toISOString(), data: { account: accountName(sink.account_id), entries } });
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
      // With the replaced secret too during a rotation's grace period, as every delivery is signed.
      "webhook-signature": webhookSignature(deps.config, sink.account_id, sink.webhook_id, webhook, secret, { id, sentAt, body }, deps.clock.now()),
    };
    return { url: webhook.url, init: { method: "POST", headers, body } };
  }
  const token = open(serverKey(deps.config), sink.token, sinkTokenContext(sink.account_id, sink.id));
  if (token === undefined) return "the HEC token does not open under this server's key";
  // HEC's event endpoint takes events one after another in one body; `time` in epoch seconds.
  const body = entries
    .map((e) => JSON.stringify({ time: Date.parse(e.entry.timestamp) / 1000, host: "hearth", source: "hearth", sourcetype: "hearth:audit", event: e }))
    .join("\n");
  return { url: sink.url, init: { method: "POST", headers: { "content-type": "application/json", authorization: `Splunk ${token}` }, body } };
}

/** Sends a leased sink's next batches; records the cursor after each acknowledged one. */
async function deliver(deps: Deps, sink: AuditSinkRow): Promise<void> {
  let cursor = sink.delivered_seq;
  for (let batch = 0; batch < BATCHES_PER_LEASE; batch++) {
    const next = await chainRows(deps.store.db, sink.account_id, cursor, Number.MAX_SAFE_INTEGER, BATCH).next();
    const now = deps.clock.now();
    if (next.done) {
      await recordSinkOutcome(deps.store.db, sink, { deliveredSeq: cursor, attemptCount: 0, nextAttemptTime: now, lastError: "", now, release: true });
      return;
    }
    const rows = next.value;
    const req = await request(deps, sink, rows);
    let error = typeof req === "string" ? req : "";
    if (typeof req !== "string") {
      try {
        const res = await outboundOf(deps)(req.url, { ...req.init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 200 || res.status > 299) error = `the receiver answered HTTP ${res.status}`;
      } catch (cause) {
        error = `not delivered: ${(cause as Error).message}`;
      }
    }
    if (error) {
      const attempts = sink.attempt_count + 1;
      await recordSinkOutcome(deps.store.db, sink, {
        deliveredSeq: cursor,
        attemptCount: attempts,
        nextAttemptTime: now + backoff(attempts),
        lastError: error,
        now,
        release: true,
      });
      return;
    }
    cursor = rows.at(-1)!.seq;
    sink = { ...sink, attempt_count: 0 };
    if (!(await recordSinkOutcome(deps.store.db, sink, { deliveredSeq: cursor, attemptCount: 0, nextAttemptTime: now, lastError: "", now, release: false })))
      return;
  }
  const now = deps.clock.now();
  await recordSinkOutcome(deps.store.db, sink, { deliveredSeq: cursor, attemptCount: 0, nextAttemptTime: now, lastError: "", now, release: true });
}

/** Delivers every due sink this process can lease, one after another. */
async function deliverDueSinks(deps: Deps, owner: string): Promise<void> {
  for (const sink of await leaseDueSinks(deps.store.db, owner, deps.clock.now(), LEASE_MS, 20)) await deliver(deps, sink);
}

/** Runs delivery every half second; the returned function stops it, once the run in progress ended. */
export function startAuditSinkDelivery(deps: Deps, log: (error: unknown) => void): () => Promise<void> {
  const owner = randomUUID();
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= deliverDueSinks(deps, owner)
      .then(() => undefined, log)
      .finally(() => (running = undefined));
  };
  const timer = setInterval(run, 500).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
