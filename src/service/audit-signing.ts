/**
 * @module The server's Ed25519 audit signing key and the signing of checkpoints (docs/audit-log.md).
 * The key is stored sealed with the server key (domain/secret-box.ts), so every process sharing
 * the store signs with it; a rotation retires it, and its public key stays published.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import type { Config } from "../config.ts";
import { signCheckpoint, type AuditPublicKey, type SignedCheckpoint } from "../domain/audit-chain.ts";
import { signSeal, type ExportSeal, type SealFields } from "../domain/audit-export.ts";
import { open, seal } from "../domain/secret-box.ts";
import { formatTimestamp } from "../domain/time.ts";
import { activeSigningKey, allSigningKeys, checkpointIdleChains, insertSigningKey, setCheckpointSignature, unsignedCheckpoints } from "../store/audit-chain.ts";
import type { AuditCheckpointRow, AuditSigningKeyRow } from "../store/schema.ts";
import type { Store } from "../store/store.ts";
import { serverKey } from "./server-key.ts";

const sealContext = (id: string): string => `hearth audit signing key ${id}`;

/** A new key row: the private key (PKCS #8 DER) sealed under the server key, the public key as JWK `x`. */
function newKeyRow(config: Config, now: number): AuditSigningKeyRow {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const id = randomUUID();
  const der = privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url");
  const x = (publicKey.export({ format: "jwk" }) as { x: string }).x;
  return { id, public_key: x, private_key: seal(serverKey(config), der, sealContext(id)), create_time: now, retire_time: null };
}

/**
 * The key that signs new checkpoints, created on first use (two processes creating one at once
 * both publish theirs; the newest signs).
 * @throws Error when the stored key does not open under the server key (HEARTH_SECRET_KEY changed).
 */
async function activeSigner(store: Store, config: Config): Promise<{ keyId: string; privateKey: KeyObject }> {
  let row = await activeSigningKey(store.db);
  if (!row) {
    await insertSigningKey(store.db, newKeyRow(config, Date.now()), false);
    row = (await activeSigningKey(store.db))!;
  }
  const der = open(serverKey(config), row.private_key, sealContext(row.id));
  if (der === undefined) throw new Error(`audit signing key ${row.id} does not open with the server key`);
  return { keyId: row.id, privateKey: createPrivateKey({ key: Buffer.from(der, "base64url"), format: "der", type: "pkcs8" }) };
}

/** `hearth audit rotate-key`: a new signing key; the previous one is retired (still published). Returns the new key id. */
export async function rotateAuditSigningKey(store: Store, config: Config): Promise<string> {
  const row = newKeyRow(config, Date.now());
  await insertSigningKey(store.db, row, true);
  return row.id;
}

/**
 * Every public key that signs or signed checkpoints, as served at `/.well-known/hearth-audit-keys`
 * (RFC 8037 OKP JWKs); the first key is created when there is none yet.
 */
export async function auditPublicKeys(store: Store, config: Config): Promise<AuditPublicKey[]> {
  let keys = await allSigningKeys(store.db);
  if (keys.length === 0) {
    await activeSigner(store, config);
    keys = await allSigningKeys(store.db);
  }
  return keys.map((k) => ({
    kty: "OKP",
    crv: "Ed25519",
    x: k.public_key,
    kid: k.id,
    alg: "EdDSA",
    use: "sig",
    createTime: formatTimestamp(k.create_time),
    ...(k.retire_time !== null ? { retireTime: formatTimestamp(k.retire_time) } : {}),
  }));
}

/** An export's seal (domain/audit-export.ts), signed with the active audit signing key. */
export async function sealExport(store: Store, config: Config, fields: SealFields): Promise<ExportSeal> {
  const signer = await activeSigner(store, config);
  return signSeal(fields, signer.keyId, signer.privateKey);
}

/** A stored checkpoint as signed and exported: count = its position in the chain. */
export const checkpointOf = (row: AuditCheckpointRow): SignedCheckpoint => ({
  account: row.account_id,
  lastId: row.last_id,
  lastHash: row.last_hash,
  count: row.seq,
  time: formatTimestamp(row.time),
  keyId: row.key_id,
  signature: row.signature,
});

/**
 * Takes the checkpoints of chains idle for 10 minutes, then signs every checkpoint not yet signed
 * (written by the audit writer, retention or the upgrade). Returns how many were signed.
 */
export async function signPendingCheckpoints(store: Store, config: Config, now = Date.now()): Promise<number> {
  await checkpointIdleChains(store.db, now);
  let signer: { keyId: string; privateKey: KeyObject } | undefined;
  let signed = 0;
  for (;;) {
    const pending = await unsignedCheckpoints(store.db, 500);
    if (pending.length === 0) return signed;
    signer ??= await activeSigner(store, config);
    for (const row of pending) {
      const c = signCheckpoint(checkpointOf(row), signer.keyId, signer.privateKey);
      await setCheckpointSignature(store.db, row, c.keyId, c.signature);
      signed++;
    }
  }
}

/** Signs pending checkpoints every 5 seconds (and now); the returned function stops it, once the run in progress ended. */
export function startAuditSigner(store: Store, config: Config, log: (error: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= signPendingCheckpoints(store, config)
      .then(() => undefined, log)
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, 5000).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
