/**
 * @module The audit export's JSON Lines format and its offline verification (docs/audit-log.md).
 *
 * Line 1, the header: `{"type":"header","format":"hearth.auditLogExport.v1","account","startTime",
 * "endTime","filtered","anchor","publicKeys"}`; then one line per entry, in chain order for an
 * unfiltered export: `{"type":"entry","seq","prevHash","hash","entry":{…the hashed field set…}}`,
 * each signed checkpoint right after its last entry: `{"type":"checkpoint",…SignedCheckpoint}`.
 * `anchor` is the signed checkpoint the entries continue (null when they start the chain); a
 * filtered export has none, and its entries can each be checked against a full export by hash.
 * The last line is the export's signed seal (`ExportSeal`): what the server sent, line for line.
 */
import { createHash, sign, verify, type KeyObject } from "node:crypto";
import canonicalize from "canonicalize";
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

/**
 * An export's last line: the server's Ed25519 signature (RFC 8032, by the audit signing key
 * `keyId`) over the RFC 8785 canonical JSON of every other field. `digest` is the SHA-256
 * (base64url) of every line before the seal, each with its line feed, so the seal proves the file
 * is exactly what the server exported: a line edited, added, dropped or cut off, or a header
 * changed (`filtered`, `anchor`), no longer matches. Its `type` is part of what is signed, so a
 * seal's signature never passes for a checkpoint's, nor the reverse.
 */
export interface ExportSeal {
  type: "seal";
  account: string;
  filtered: boolean;
  /** Entry lines before the seal. */
  entries: number;
  /** The hash of the last entry line ("" when there is none). */
  lastHash: string;
  digest: string;
  /** When the server sealed the export, RFC 3339 UTC. */
  time: string;
  keyId: string;
  signature: string;
}

/** What a seal states, before it is signed. */
export type SealFields = Omit<ExportSeal, "type" | "keyId" | "signature">;

const sealStatement = (s: SealFields & { type?: string }): Buffer =>
  Buffer.from(
    canonicalize({ type: "seal", account: s.account, filtered: s.filtered, entries: s.entries, lastHash: s.lastHash, digest: s.digest, time: s.time })!,
    "utf8",
  );

/** Signs an export's seal with an Ed25519 private key. */
export function signSeal(fields: SealFields, keyId: string, privateKey: KeyObject): ExportSeal {
  return { ...fields, type: "seal", keyId, signature: sign(null, sealStatement(fields), privateKey).toString("base64url") };
}

function sealValid(seal: ExportSeal, keys: Map<string, KeyObject>): boolean {
  const key = keys.get(seal.keyId);
  if (!key || typeof seal.signature !== "string" || seal.signature === "") return false;
  try {
    return verify(null, sealStatement(seal), key, Buffer.from(seal.signature, "base64url"));
  } catch {
    return false;
  }
}

/** The running SHA-256 of an export's lines and what the seal states about its entries, as the lines are written or read. */
export class ExportDigest {
  private readonly hash = createHash("sha256");
  entries = 0;
  lastHash = "";

  /** Adds text as written: whole lines, each with its line feed. */
  text(text: string): void {
    this.hash.update(text);
  }

  /** Counts an entry line, by its hash (its text goes through `text`). */
  entry(hash: string): void {
    this.entries++;
    this.lastHash = hash;
  }

  /** The digest, base64url; once. */
  digest(): string {
    return this.hash.digest("base64url");
  }
}

/** The result of verifying an export or an account's chain. */
export interface VerifyReport {
  verified: boolean;
  /** An export's seal that verified (absent for the store's chain). */
  seal?: { keyId: string; time: string; filtered: boolean } | undefined;
  /** Entries whose links held. */
  entriesVerified: number;
  /** Signed checkpoints that matched the chain (the anchor included). */
  checkpointsVerified: number;
  lastEntryId: string;
  lastHash: string;
  brokenLink?: BrokenLink | undefined;
}

/**
 * Verifies an export read line by line (constant memory): its seal (the last line) under `keys`
 * (default: the export's own `publicKeys` — pass the server's published keys to trust no one who
 * handled the file) against every line before it, the anchor's and every checkpoint's signature,
 * and the chain from the anchor. A filtered export is checked entry by entry (each hash against its
 * content and previous hash); its seal still proves it is what the server exported. A file without
 * a valid seal (cut short, added to, or not made by Hearth) is not verified. `rescan` reads the
 * lines again (to tell a reordering from a gap).
 * @throws Error when the first line is not an export header.
 */
export async function verifyExport(lines: AsyncIterable<string>, rescan: () => AsyncIterable<string>, keys?: Map<string, KeyObject>): Promise<VerifyReport> {
  let walk: ChainWalk | undefined;
  let header: ExportHeader | undefined;
  let trusted = keys ?? new Map<string, KeyObject>();
  let checked = 0;
  let last = { id: "", hash: "" };
  let sealed: ExportSeal | undefined;
  const digest = new ExportDigest();
  const report = (brokenLink?: BrokenLink): VerifyReport => ({
    verified: brokenLink === undefined,
    ...(sealed && brokenLink === undefined ? { seal: { keyId: sealed.keyId, time: sealed.time, filtered: sealed.filtered } } : {}),
    entriesVerified: walk ? walk.entries : checked,
    checkpointsVerified: walk ? walk.checkpoints : 0,
    lastEntryId: walk ? walk.lastId : last.id,
    lastHash: walk ? walk.hash : last.hash,
    brokenLink,
  });
  const badSeal = (detail: string) => report({ entryId: walk ? walk.lastId : last.id, problem: "BAD_SEAL", detail });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    if (sealed) return badSeal("the file goes on after its seal");
    const item = parseLine(line, number) as { type?: string; hash?: string };
    if (!header) {
      header = item as ExportHeader;
      if (header.type !== "header" || header.format !== EXPORT_FORMAT) throw new Error(`not a Hearth audit export (expected a "${EXPORT_FORMAT}" header line)`);
      digest.text(`${line}\n`);
      trusted = keys ?? publicKeyMap(header.publicKeys);
      if (header.filtered) continue;
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
    if (item.type === "seal") {
      sealed = item as unknown as ExportSeal;
      const problem = sealProblem(sealed, header, digest, trusted);
      if (problem) return badSeal(problem);
      continue;
    }
    digest.text(`${line}\n`);
    if (item.type === "entry") digest.entry(String(item.hash));
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
  if (!header) throw new Error("the export is empty");
  if (!sealed) {
    return report({
      entryId: walk ? walk.lastId : last.id,
      problem: "UNSEALED",
      detail: "the file ends without its signed seal: it was cut short, or not exported by Hearth (or by a Hearth older than the seal)",
    });
  }
  return report();
}

/** A line of an export, parsed; one that is not JSON is an error naming it (the first: the file is no export). */
function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    const where = number === 1 ? `not a Hearth audit export: its first line` : `line ${number} of the export`;
    throw new Error(`${where} is not JSON (${(error as Error).message})`);
  }
}

/** Why `seal` does not vouch for the lines read before it, or undefined when it does. */
function sealProblem(seal: ExportSeal, header: ExportHeader, digest: ExportDigest, keys: Map<string, KeyObject>): string | undefined {
  if (!sealValid(seal, keys)) return "the seal is not signed by a published key";
  if (seal.account !== header.account || seal.filtered !== header.filtered) return "the seal names another account or kind of export than the header";
  if (seal.entries !== digest.entries || seal.lastHash !== digest.lastHash) {
    return `the seal vouches for ${seal.entries} entries ending at hash ${seal.lastHash || "(none)"}, the file holds ${digest.entries} ending at ${digest.lastHash || "(none)"}`;
  }
  if (seal.digest !== digest.digest()) return "the lines before the seal are not the ones the server exported";
  return undefined;
}

async function findEntry(lines: AsyncIterable<string>, hash: string): Promise<string | undefined> {
  for await (const line of lines) {
    if (!line.includes(hash)) continue;
    const item = JSON.parse(line) as { type?: string; hash?: string; entry?: { id: string } };
    if (item.type === "entry" && item.hash === hash) return item.entry?.id;
  }
  return undefined;
}
