/**
 * @module The webhook delivery worker (docs/webhooks.md), one per process, started by `createHearth`.
 * Every `config.webhooks.pollMs`, and whenever an attempt ends, it claims due deliveries with a
 * lease (store/webhook-outbox.ts: in a cluster each is taken by one process; a lease that lapses,
 * because its process died, frees the row for another), POSTs each event through the outbound
 * fetch — which refuses private and loopback addresses unless the operator allows them — signed per
 * Standard Webhooks, and records the attempt. Claims are fair: one delivery per webhook at a time,
 * at most PER_ACCOUNT per account, in rounds across accounts, at most MAX_IN_FLIGHT per process; an
 * attempt runs on its own (a claim never waits for another's), so one account's slow receiver holds
 * back neither another account's deliveries nor the scans below, and each lease covers one attempt
 * (at most ATTEMPT_TIMEOUT_MS), well within LEASE_MS.
 * A 2xx answer is success; anything else is retried with exponential backoff (`retryBaseMs`, doubled
 * per attempt, at most 6 hours apart) until a day after the first attempt, then FAILED; a redelivery
 * by hand starts that schedule afresh (`backoff_attempt_count`, its deadline). Delivery is
 * at least once: a process that dies between the receiver's answer and the record sends again.
 *
 * The same loop runs the scans that write events: api_key.expiring/expired and the month's spend
 * reaching its quota (webhook-notices.ts).
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { open } from "../domain/secret-box.ts";
import { nextAttemptTime, RETRY_WINDOW_MS } from "../domain/webhook-backoff.ts";
import {
  claimDueDeliveries,
  deliveryTarget,
  finishAttempt,
  pruneEvents,
  releaseLease,
  type AttemptOutcome,
  type ClaimedDelivery,
  type DeliveryTarget,
} from "../store/webhook-outbox.ts";
import type { Deps } from "./context.ts";
import { isOutboundFailure, outboundOf } from "./outbound-fetch.ts";
import { serverKey } from "./server-key.ts";
import { secretContext, webhookSignature } from "./webhooks.ts";
import { scanKeyExpiry, scanMonthlySpend } from "./webhook-notices.ts";

const SECOND = 1000;
/** Longer than an attempt can take (the outbound fetch's 10 s connect and header timeouts, the 15 s limit below). */
const LEASE_MS = 60 * SECOND;
/** The longest one attempt runs, connecting and sending included; a lease holds one attempt. */
const ATTEMPT_TIMEOUT_MS = 15 * SECOND;
/** Attempts one process runs at once. */
const MAX_IN_FLIGHT = 32;
/** Deliveries of one account attempted at once, across processes: an account's fan-out or slow receivers take no more. */
const PER_ACCOUNT = 4;
/** The delivery log keeps events (with their deliveries and attempts) this long once none is pending: 30 days. */
const LOG_RETENTION_MS = 30 * 24 * 3600 * SECOND;
const PRUNE_BATCH = 1000;
/** Lifecycle scans run when the clock has moved on this much since the last. */
const SCAN_EVERY_MS = 60 * SECOND;

/** The sentence an attempt without an answer records: a refused address reads like an unreachable one (no port scanning through Hearth). */
const NO_RESPONSE = "no response: the URL could not be reached or did not answer in time";

/** Where the worker reports what only the operator should read (a refused address, a failed scan). */
export interface WorkerLog {
  warn(message: string): void;
  error(error: unknown, message: string): void;
}

/** Starts the worker; the returned function stops it, abandoning (not recording) attempts in flight, and resolves once it has. */
export function startWebhookDelivery(deps: Deps, log: WorkerLog): () => Promise<void> {
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const stopping = new AbortController();
  let lastScan = Number.NEGATIVE_INFINITY;

  const deliver = async (delivery: ClaimedDelivery): Promise<void> => {
    const target = await deliveryTarget(deps.store.db, delivery);
    if (!target) return; // the webhook was deleted, and its deliveries with it
    const attemptTime = deps.clock.now();
    const deadline = delivery.deadline_time || attemptTime + RETRY_WINDOW_MS;
    const attempt = delivery.attempt_count + 1;
    const failed = (responseCode: number, error: string, durationMs: number, final = false): AttemptOutcome => {
      // Backoff counts this round's attempts only: a redelivery starts again from the base delay.
      const next = final ? null : nextAttemptTime(attemptTime, delivery.backoff_attempt_count + 1, deps.config.webhooks.retryBaseMs, deadline);
      return { attemptTime, responseCode, error, durationMs, state: next === null ? "FAILED" : "PENDING", nextAttemptTime: next, deadlineTime: deadline };
    };
    let outcome: AttemptOutcome;
    const secret = open(serverKey(deps.config), target.secret, secretContext(delivery.account_id, delivery.webhook_id));
    if (target.state !== "ENABLED") {
      outcome = failed(0, "not sent: the webhook is disabled", 0, true);
    } else if (secret === undefined) {
      outcome = failed(0, "not sent: the signing secret does not open under this server's key (HEARTH_SECRET_KEY changed?)", 0, true);
    } else {
      const started = performance.now();
      // The signing time is the wall clock's, in whole seconds: receivers check it against theirs (Standard Webhooks' tolerance).
      const sentAt = new Date(Math.floor(Date.now() / SECOND) * SECOND);
      const headers = {
        "content-type": "application/json",
        "user-agent": "Hearth-Webhooks/1",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": String(sentAt.getTime() / SECOND),
        "webhook-signature": webhookSignature(
          deps.config,
          delivery.account_id,
          delivery.webhook_id,
          target,
          secret,
          { id: delivery.event_id, sentAt, body: target.data },
          attemptTime,
        ),
      };
      try {
        const response = await outboundOf(deps)(target.url, {
          method: "POST",
          headers,
          body: target.data,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
        });
        await response.body?.cancel().catch(() => undefined);
        const durationMs = Math.round(performance.now() - started);
        outcome =
          response.status >= 200 && response.status < 300
            ? { attemptTime, responseCode: response.status, error: "", durationMs, state: "SUCCEEDED", nextAttemptTime: null, deadlineTime: deadline }
            : failed(response.status, "", durationMs);
      } catch (error) {
        if (stopping.signal.aborted) return releaseLease(deps.store.db, delivery.id, owner);
        if (!isOutboundFailure(error)) throw error;
        log.warn(
          `webhook accounts/${delivery.account_id}/webhooks/${delivery.webhook_id}: attempt ${attempt} of ${delivery.event_id} failed: ${describe(error)}`,
        );
        outcome = failed(0, NO_RESPONSE, Math.round(performance.now() - started));
      }
    }
    await finishAttempt(deps.store.db, delivery.id, owner, outcome);
  };

  /** Attempts in flight on this process, by delivery id. */
  const inFlight = new Map<string, Promise<void>>();
  /** Starts an attempt of a claimed delivery, tracked in `inFlight` until it is recorded. */
  const start = (d: ClaimedDelivery): void => {
    const done = deliver(d)
      .catch((error: unknown) => log.error(error, `webhook delivery ${d.id} failed`))
      .finally(() => {
        inFlight.delete(d.id);
        wake(); // the webhook's next delivery, or another account's, may be waiting for this one
      });
    inFlight.set(d.id, done);
  };

  /** Claims what is due, fairly, up to the room left, and starts each attempt without waiting for it. */
  const claim = async (): Promise<void> => {
    const room = MAX_IN_FLIGHT - inFlight.size;
    if (room <= 0) return;
    const now = deps.clock.now();
    const claimed = await claimDueDeliveries(deps.store.db, deps.store.dialect, owner, now, now + LEASE_MS, { limit: room, perAccount: PER_ACCOUNT });
    // A delivery still in flight here whose lease lapsed (the clock moved on) is claimed again by
    // this same owner: the attempt in flight records it, so it is not sent a second time.
    for (const d of claimed) if (!inFlight.has(d.id)) start(d);
  };

  let claiming: Promise<void> | undefined;
  let claimAgain = false;
  /** Runs a claim now, or once the one running ends (wakes while one runs make one more, not one each). */
  const wake = (): void => {
    if (stopping.signal.aborted) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = claim()
      .catch((error: unknown) => log.error(error, "webhook delivery failed"))
      .finally(() => {
        claiming = undefined;
        if (claimAgain) {
          claimAgain = false;
          wake();
        }
      });
  };

  let scanning: Promise<void> | undefined;
  /** The lifecycle scans, every SCAN_EVERY_MS, each run on its own so that no delivery waits for them. */
  const scan = (): void => {
    const now = deps.clock.now();
    if (scanning || stopping.signal.aborted || now - lastScan < SCAN_EVERY_MS) return;
    lastScan = now;
    scanning = (async () => {
      await scanKeyExpiry(deps, now);
      await scanMonthlySpend(deps);
      await pruneEvents(deps.store.db, now - LOG_RETENTION_MS, PRUNE_BATCH);
    })()
      .catch((error: unknown) => log.error(error, "webhook notice scan failed"))
      .finally(() => (scanning = undefined));
  };

  const timer = setInterval(() => {
    wake();
    scan();
  }, deps.config.webhooks.pollMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopping.abort();
    await claiming;
    await Promise.all([...inFlight.values(), scanning]);
  };
}

/** The operator's reading of an outbound failure: its message and its causes'. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) parts.push(e.message);
  return parts.join(": ");
}
