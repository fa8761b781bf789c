/**
 * @module The audit export's JSON Lines format and its offline verification (docs/audit-log.md).
 *
 * Line 1, the header: `{"type":"header","format":"hearth.auditLogExport.v1","account","startTime",
 * "endTime","filtered","anchor","publicKeys"}`; then one line per entry, in chain order for an
 * unfiltered export: `{"type":"entry","seq","prevHash","hash","entry":{…the hashed field set…}}`,
 * each signed checkpoint right after its last entry: `{"type":"checkpoint",…SignedCheckpoint}`.
 * `anchor` is the signed checkpoint the entries continue (null when they start the chain); a
 * filtered export has none, and its entries can each be checked against a full export by hash.
 */
import type { KeyObject } from "node:crypto";
import {
  checkpointValid,
  ChainWalk,
  entryHash,
  GENESIS_HASH,
  publicKeyMap,
  type AuditPublicKey,
  type BrokenLink,
  type ChainLink,
  type SignedCheckpoint,
} from "./audit-chain.ts";

export const EXPORT_FORMAT = "hearth.auditLogExport.v1" as const;

export interface ExportHeader {
  type: "header";
  format: typeof EXPORT_FORMAT;
  account: string;
  /** RFC 3339; null when not given. */
  startTime: string | null;
  endTime: string | null;
  /** True for a filtered or non-admin export: its entries are not a contiguous chain. */
  filtered: boolean;
  anchor: SignedCheckpoint | null;
  publicKeys: AuditPublicKey[];
}

/** The result of verifying an export or an account's chain. */
export interface VerifyReport {
  verified: boolean;
  /** Entries whose links held. */
  entriesVerified: number;
  /** Signed checkpoints that matched the chain (the anchor included). */
  checkpointsVerified: number;
  lastEntryId: string;
  lastHash: string;
  brokenLink?: BrokenLink | undefined;
}

/**
 * Verifies an export read line by line (constant memory): the anchor's and every checkpoint's
 * signature under `keys` (default: the export's own `publicKeys` — pass the server's published keys
 * to trust no one who handled the file), and the chain from the anchor. A filtered export is
 * checked entry by entry (each hash against its content and previous hash). `rescan` reads the
 * lines again (to tell a reordering from a gap).
 * @throws Error when the first line is not an export header.
 */
export async function verifyExport(lines: AsyncIterable<string>, rescan: () => AsyncIterable<string>, keys?: Map<string, KeyObject>): Promise<VerifyReport> {
  let walk: ChainWalk | undefined;
  let filtered = false;
  let checked = 0;
  let last = { id: "", hash: "" };
  const report = (brokenLink?: BrokenLink): VerifyReport => ({
    verified: brokenLink === undefined,
    entriesVerified: walk ? walk.entries : checked,
    checkpointsVerified: walk ? walk.checkpoints : 0,
    lastEntryId: walk ? walk.lastId : last.id,
    lastHash: walk ? walk.hash : last.hash,
    brokenLink,
  });
  let first = true;
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const item = JSON.parse(line) as { type?: string };
    if (first) {
      first = false;
      const header = item as ExportHeader;
      if (header.type !== "header" || header.format !== EXPORT_FORMAT) throw new Error(`not a Hearth audit export (expected a "${EXPORT_FORMAT}" header line)`);
      filtered = header.filtered;
      if (filtered) continue;
      const trusted = keys ?? publicKeyMap(header.publicKeys);
      const anchor = header.anchor;
      if (anchor && !checkpointValid(anchor, trusted)) {
        return {
          ...report(),
          verified: false,
          brokenLink: { entryId: anchor.lastId, problem: "BAD_CHECKPOINT", detail: "the export's anchor checkpoint is not signed by a published key" },
        };
      }
      walk = new ChainWalk(anchor ? { seq: anchor.count, hash: anchor.lastHash, lastId: anchor.lastId } : { seq: 0, hash: GENESIS_HASH }, trusted, (hash) =>
        findEntry(rescan(), hash),
      );
      if (anchor) walk.checkpoints++;
      continue;
    }
    if (item.type === "entry") {
      const link = item as unknown as ChainLink;
      if (walk) {
        const broken = await walk.entry(link);
        if (broken) return report(broken);
      } else {
        if (entryHash(link.prevHash, link.entry) !== link.hash)
          return report({ entryId: link.entry.id, problem: "EDITED", detail: "its content does not match its hash" });
        checked++;
        last = { id: link.entry.id, hash: link.hash };
      }
    } else if (item.type === "checkpoint" && walk) {
      const broken = walk.checkpoint(item as unknown as SignedCheckpoint);
      if (broken) return report(broken);
    }
  }
  if (first) throw new Error("the export is empty");
  return report();
}

async function findEntry(lines: AsyncIterable<string>, hash: string): Promise<string | undefined> {
  for await (const line of lines) {
    if (!line.includes(hash)) continue;
    const item = JSON.parse(line) as { type?: string; hash?: string; entry?: { id: string } };
    if (item.type === "entry" && item.hash === hash) return item.entry?.id;
  }
  return undefined;
}
