/**
 * @module Verifying an account's audit chain in the store (`GET …/auditLogs:verify`, `hearth audit
 * verify --account`): the signed checkpoints, then every link from the anchor (docs/audit-log.md).
 */
import { ChainWalk, checkpointValid, GENESIS_HASH, publicKeyMap } from "../domain/audit-chain.ts";
import type { VerifyReport } from "../domain/audit-export.ts";
import { invalidArgument } from "../domain/errors.ts";
import {
  chainHead,
  chainRows,
  checkpointBefore,
  checkpointsBetween,
  editedRepeat,
  entryWithHash,
  linkOf,
  seqRange,
  unchainedEntry,
} from "../store/audit-chain.ts";
import type { Store } from "../store/store.ts";
import type { Config } from "../config.ts";
import { auditPublicKeys, checkpointOf, signPendingCheckpoints } from "./audit-signing.ts";
import { auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize } from "./permissions.ts";

/** A time range of entries to verify, in ms since the epoch (`startTime` ≤ timestamp < `endTime`); both optional. */
export interface VerifyRange {
  startTime?: number | undefined;
  endTime?: number | undefined;
}

/**
 * Recomputes the account's chain over the range: from the last signed checkpoint before its first
 * entry (or the chain's start) to its last entry (without `endTime`, to the chain's head or its last
 * signed checkpoint, whichever is further, so deleted last entries show), checking each signed
 * checkpoint met on the way. Pending checkpoints
 * are signed first. Reports the first broken link, or how many entries held.
 * @throws INVALID_ARGUMENT when startTime is not before endTime.
 */
export async function verifyAccountChain(store: Store, config: Config, accountId: string, range: VerifyRange): Promise<VerifyReport> {
  if (range.startTime !== undefined && range.endTime !== undefined && range.startTime >= range.endTime)
    throw invalidArgument("startTime must be before endTime");
  const db = store.db;
  await signPendingCheckpoints(store, config);
  const keys = publicKeyMap(await auditPublicKeys(store, config));
  const head = await chainHead(db, accountId);
  const done = (walk: ChainWalk | undefined, brokenLink?: VerifyReport["brokenLink"]): VerifyReport => ({
    verified: brokenLink === undefined,
    entriesVerified: walk?.entries ?? 0,
    checkpointsVerified: walk?.checkpoints ?? 0,
    lastEntryId: walk?.lastId ?? "",
    lastHash: walk?.hash ?? GENESIS_HASH,
    brokenLink,
  });
  const stray = await unchainedEntry(db, accountId);
  if (stray) return done(undefined, { entryId: stray.id, problem: "INSERTED", detail: "it is in no chain: it was not written by Hearth's audit writer" });
  // Without an end, the walk goes to the chain's head, so deleted last entries show as missing.
  const found = await seqRange(db, accountId, range.startTime, range.endTime);
  if (!found && (range.startTime !== undefined || range.endTime !== undefined)) return done(undefined);
  const first = found?.first ?? head.seq + 1;
  // Without an end, also to the last signed checkpoint: one past the last entry vouches for entries
  // that were removed with the head moved back (the tail cut), which show as missing.
  const lastSigned = range.endTime === undefined ? await checkpointBefore(db, accountId, Number.MAX_SAFE_INTEGER) : undefined;
  const upTo = range.endTime === undefined ? Math.max(head.seq, found?.last ?? 0, lastSigned?.seq ?? 0) : found!.last;
  const anchorRow = await checkpointBefore(db, accountId, first);
  if (anchorRow && !checkpointValid(checkpointOf(anchorRow), keys)) {
    return done(undefined, {
      entryId: anchorRow.last_id,
      problem: "BAD_CHECKPOINT",
      detail: `the checkpoint at position ${anchorRow.seq} is not signed by a published key`,
    });
  }
  const anchor = anchorRow ? { seq: anchorRow.seq, hash: anchorRow.last_hash, lastId: anchorRow.last_id } : { seq: 0, hash: GENESIS_HASH };
  const walk = new ChainWalk(anchor, keys, (hash) => entryWithHash(db, accountId, hash));
  if (anchorRow) walk.checkpoints++;
  const checkpoints = new Map((await checkpointsBetween(db, accountId, anchor.seq + 1, upTo)).filter((c) => c.signature !== "").map((c) => [c.seq, c]));
  for await (const rows of chainRows(db, accountId, anchor.seq, upTo)) {
    for (const row of rows) {
      const repeat = editedRepeat(row);
      if (repeat) return done(walk, { entryId: row.id, problem: "EDITED", detail: `its ${repeat} column no longer matches its hashed fields` });
      const broken = await walk.entry(linkOf(row));
      if (broken) return done(walk, broken);
      const c = checkpoints.get(row.seq);
      const bad = c ? walk.checkpoint(checkpointOf(c)) : undefined;
      if (bad) return done(walk, bad);
    }
  }
  if (walk.seq < upTo) {
    const gap = upTo - walk.seq;
    return done(walk, {
      entryId: walk.lastId,
      problem: "MISSING",
      detail: `${gap} ${gap === 1 ? "entry" : "entries"} after it ${gap === 1 ? "is" : "are"} missing (the chain holds ${upTo})`,
    });
  }
  return done(walk);
}

/**
 * VerifyAuditLogs (`GET …/auditLogs:verify`): admins (`auditLogs.listAll`) verify their account's chain.
 * @throws PERMISSION_DENIED for non-admins; INVALID_ARGUMENT for a bad range.
 */
export async function verifyAuditLogs(deps: Deps, ctx: Ctx, accountId: string, range: VerifyRange): Promise<VerifyReport> {
  return auditRefusals(ctx, { method: "VerifyAuditLogs", resource: `accounts/${accountId}/auditLogs`, payload: range }, async () => {
    authorize(ctx, "auditLogs.listAll");
    return verifyAccountChain(deps.store, deps.config, accountId, range);
  });
}
