/**
 * @module The audit log's hash chain and signed checkpoints (docs/audit-log.md): the hashed field
 * set, the hash rule, the checkpoint statement and the walk that finds the first broken link. Used
 * alike by the server (entries from the store) and by `hearth audit verify --file` (an export).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The fields of an entry that its hash covers, fixed forever (changing them would mean re-hashing
 * every stored entry). `timestamp` is RFC 3339 UTC with milliseconds; `authentication` is
 * `apiKey:<key id>`, `session`, `oidc:<issuer>`, `operator` or "" (unauthenticated); `status.code`
 * is the HTTP status of a refusal (0 for success).
 */
export interface ChainedEntry {
  id: string;
  timestamp: string;
  principal: string;
  principalUid: string;
  /** `USER`, `SERVICE_ACCOUNT`, `OPERATOR` or `UNAUTHENTICATED` ("" for entries stored before the chain that name no principal). */
  principalType: string;
  authentication: string;
  method: string;
  resource: string;
  status: { code: number; message: string };
  isAdminAction: boolean;
  payload: unknown;
  clientIp: string;
  userAgent: string;
  requestId: string;
}

/** How an entry's `authentication` names the API key it was made with: `apiKey:<key id>`. */
export const API_KEY_AUTHENTICATION = "apiKey:";

/** The previous hash of an account's first entry: 32 zero bytes, as lower-case hex. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * `SHA-256(prevHash ‖ JCS(entry))` as lower-case hex: prevHash as its 32 raw bytes, then the entry's
 * RFC 8785 canonical JSON in UTF-8.
 */
export function entryHash(prevHash: string, entry: ChainedEntry): string {
  return createHash("sha256")
    .update(Buffer.from(prevHash, "hex"))
    .update(canonicalize(wellFormed(entry))!, "utf8")
    .digest("hex");
}

/**
 * The value with every string made well-formed UTF-16 (a lone surrogate becomes U+FFFD), which
 * RFC 8785 requires and `canonicalize` otherwise refuses: a hostile request's text must not make
 * its audit entry unwritable. Applied alike when hashing and when verifying.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === "string") return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), wellFormed(v)]));
  return value;
}

/**
 * What a checkpoint states: the account's chain held `count` entries, the last of them `lastId`
 * with hash `lastHash`, at `time` (RFC 3339 UTC). Signed as its RFC 8785 canonical JSON.
 */
export interface Checkpoint {
  account: string;
  lastId: string;
  lastHash: string;
  count: number;
  time: string;
}

/** A checkpoint with its Ed25519 signature (base64url, RFC 8032) by the key `keyId`. */
export interface SignedCheckpoint extends Checkpoint {
  keyId: string;
  signature: string;
}

const statement = (c: Checkpoint): Buffer =>
  Buffer.from(canonicalize({ account: c.account, lastId: c.lastId, lastHash: c.lastHash, count: c.count, time: c.time })!, "utf8");

/** Signs a checkpoint with an Ed25519 private key. */
export function signCheckpoint(c: Checkpoint, keyId: string, privateKey: KeyObject): SignedCheckpoint {
  return {
    account: c.account,
    lastId: c.lastId,
    lastHash: c.lastHash,
    count: c.count,
    time: c.time,
    keyId,
    signature: sign(null, statement(c), privateKey).toString("base64url"),
  };
}

/** One published public key (RFC 8037 OKP JWK, `kid` = key id); `retireTime` once rotated away (RFC 3339). */
export interface AuditPublicKey {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
  createTime: string;
  retireTime?: string | undefined;
}

/** Public keys by key id, from published JWKs (a key that does not parse is left out). */
export function publicKeyMap(keys: readonly { kid: string; x: string }[]): Map<string, KeyObject> {
  const map = new Map<string, KeyObject>();
  for (const k of keys) {
    try {
      map.set(k.kid, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: k.x }, format: "jwk" }));
    } catch {
      // Not an Ed25519 key: checkpoints naming it do not verify.
    }
  }
  return map;
}

/** One entry as it sits in the chain: its position (1-based), its stored previous hash and hash. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  entry: ChainedEntry;
}

/** What differs at the first broken link. */
type ChainProblem = "EDITED" | "MISSING" | "REORDERED" | "INSERTED" | "BAD_CHECKPOINT" | "UNSEALED" | "BAD_SEAL";

export interface BrokenLink {
  /** The entry at which the chain breaks (for MISSING: the first entry after the gap). */
  entryId: string;
  problem: ChainProblem;
  detail: string;
}

/**
 * Walks one account's chain in order, from an anchor (the genesis, or a signed checkpoint before
 * the entries walked), and stops at the first broken link. `findByHash` names the entry, anywhere
 * in the chain, whose hash is the given one (to tell a reordering from a gap).
 */
export class ChainWalk {
  seq: number;
  hash: string;
  lastId: string;
  entries = 0;
  checkpoints = 0;
  private readonly keys: Map<string, KeyObject>;
  private readonly findByHash: (hash: string) => Promise<string | undefined>;

  constructor(anchor: { seq: number; hash: string; lastId?: string }, keys: Map<string, KeyObject>, findByHash: (hash: string) => Promise<string | undefined>) {
    this.seq = anchor.seq;
    this.hash = anchor.hash;
    this.lastId = anchor.lastId ?? "";
    this.keys = keys;
    this.findByHash = findByHash;
  }

  /** The next link; a broken link, or undefined when it holds. */
  async entry(link: ChainLink): Promise<BrokenLink | undefined> {
    const id = link.entry.id;
    if (link.seq <= this.seq)
      return { entryId: id, problem: "INSERTED", detail: `stored at position ${link.seq}, which entry ${this.lastId || "(none)"} already holds` };
    if (link.seq > this.seq + 1) {
      const gap = link.seq - this.seq - 1;
      return {
        entryId: id,
        problem: "MISSING",
        detail: `${gap} ${gap === 1 ? "entry is" : "entries are"} missing before it (positions ${this.seq + 1}..${link.seq - 1})`,
      };
    }
    if (entryHash(link.prevHash, link.entry) !== link.hash) return { entryId: id, problem: "EDITED", detail: "its content does not match its hash" };
    if (link.prevHash !== this.hash) {
      const predecessor = await this.findByHash(link.prevHash);
      if (predecessor !== undefined && predecessor !== this.lastId) {
        return { entryId: id, problem: "REORDERED", detail: `it follows entry ${predecessor} in the chain but is stored at position ${link.seq}` };
      }
      // No entry has the hash it follows: the one stored before it had its hash rewritten (with its content).
      if (this.lastId !== "")
        return { entryId: this.lastId, problem: "EDITED", detail: `its stored hash was rewritten: the next entry, ${id}, follows another` };
      return { entryId: id, problem: "MISSING", detail: "the entry it follows in the chain is missing" };
    }
    this.seq = link.seq;
    this.hash = link.hash;
    this.lastId = id;
    this.entries++;
    return undefined;
  }

  /** A checkpoint met right after its last entry: its signature, and that the chain matches it. */
  checkpoint(c: SignedCheckpoint): BrokenLink | undefined {
    if (!checkpointValid(c, this.keys))
      return { entryId: c.lastId, problem: "BAD_CHECKPOINT", detail: `the checkpoint at position ${c.count} is not signed by a published key` };
    if (c.count !== this.seq || c.lastId !== this.lastId || c.lastHash !== this.hash) {
      return { entryId: c.lastId, problem: "EDITED", detail: `the chain does not match the signed checkpoint at position ${c.count}` };
    }
    this.checkpoints++;
    return undefined;
  }
}

/** Whether a checkpoint's signature verifies under the published key it names. */
export function checkpointValid(c: SignedCheckpoint, keys: Map<string, KeyObject>): boolean {
  const key = keys.get(c.keyId);
  if (!key || c.signature === "") return false;
  try {
    return verify(null, statement(c), key, Buffer.from(c.signature, "base64url"));
  } catch {
    return false;
  }
}
