import { deleteUnchainedAuditLogsBefore } from "../store/audit-logs.ts";
import { accountsWithEntriesBefore, deleteChainPrefix } from "../store/audit-chain.ts";
import type { Store } from "../store/store.ts";

const DAY = 24 * 3600 * 1000;
const BATCH = 10_000;

/**
 * Deletes audit entries older than the retention period, in bounded batches so a large backlog
 * never holds a long write lock. Each account's chain loses a prefix, and a checkpoint at its last
 * deleted entry (signed by the audit signer soon after) keeps what remains verifiable. Returns how
 * many were deleted.
 */
export async function pruneAuditLogs(store: Store, retentionDays: number, now: number = Date.now()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const cutoff = now - retentionDays * DAY;
  let total = 0;
  for (;;) {
    const deleted = await deleteUnchainedAuditLogsBefore(store.db, cutoff, BATCH);
    total += deleted;
    if (deleted < BATCH) break;
  }
  for (const accountId of await accountsWithEntriesBefore(store.db, cutoff, 10_000)) {
    for (;;) {
      const deleted = await deleteChainPrefix(store.db, accountId, cutoff, BATCH, now);
      total += deleted;
      if (deleted < BATCH) break;
    }
  }
  return total;
}

/** Prunes now and then hourly; the returned function stops it. */
export function startAuditRetention(store: Store, retentionDays: number, log: (error: unknown) => void): () => void {
  if (retentionDays <= 0) return () => undefined;
  const run = () => void pruneAuditLogs(store, retentionDays).catch(log);
  run();
  const timer = setInterval(run, 3600 * 1000).unref();
  return () => clearInterval(timer);
}
