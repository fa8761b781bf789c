import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * Key material: `{prefix}{body}{checksum}` where body is 22 base62 chars (≥128 random bits) and the
 * checksum is the CRC32 of prefix+body as 6 base62 chars. The checksum lets a mistyped or made-up key
 * fail before any lookup, and lets secret scanners recognise Hearth keys.
 *
 * The prefix (HEARTH_KEY_PREFIX, `KEY_PREFIX_SYNTAX`) names new keys only: a key is recognised by
 * its shape under any prefix of that syntax, so every key Hearth issued keeps working after the
 * setting changes (the store, by digest, decides whether the key exists).
 *
 * Keys are stored as SHA-256 digests: they are high-entropy random strings, so a slow password hash
 * (bcrypt, scrypt) adds nothing against guessing and would cost every request milliseconds.
 */
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LENGTH = 22; // 62^22 ≈ 2^131
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
const DEFAULT_PREFIX = "hk_";

/** What HEARTH_KEY_PREFIX may be: 1–8 lowercase letters or digits, the first a letter, then `_` (e.g. `hk_`, `fw_`). */
export const KEY_PREFIX_SYNTAX = /^[a-z][a-z0-9]{0,7}_$/;

/** The leading key prefix of `token`: base62 has no `_`, so it ends at the first `_`. */
const LEADING_PREFIX = /^[a-z][a-z0-9]{0,7}_/;

/** The key prefix `token` starts with (`hk_`…), or undefined when it starts with none. */
export function keyPrefixOf(token: string): string | undefined {
  return LEADING_PREFIX.exec(token)?.[0];
}

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString("hex") || "0"}`);
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

function checksum(text: string): string {
  let n = crc32(text) >>> 0;
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface NewKey {
  /** The secret, shown once. */
  key: string;
  /** What may be shown later: the prefix and the first characters of the body. */
  displayPrefix: string;
  digest: string;
}

export function generateKey(prefix: string = DEFAULT_PREFIX): NewKey {
  const body = base62(randomBytes(24), BODY_LENGTH);
  const key = `${prefix}${body}${checksum(prefix + body)}`;
  return { key, displayPrefix: key.slice(0, prefix.length + 6), digest: digestKey(key) };
}

const BASE62 = /^[0-9A-Za-z]+$/;

/**
 * True when `key` has the shape (a prefix of `KEY_PREFIX_SYNTAX`, whichever, then 28 base62
 * characters) and a valid checksum; checked before any lookup. The checksum is not a secret (it
 * follows from the rest of the key), so a plain comparison is fine here.
 */
export function hasValidChecksum(key: string): boolean {
  const prefix = keyPrefixOf(key);
  if (prefix === undefined || key.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH) return false;
  const rest = key.slice(prefix.length);
  if (!BASE62.test(rest)) return false;
  return checksum(prefix + rest.slice(0, BODY_LENGTH)) === rest.slice(BODY_LENGTH);
}

/** The SHA-256 digest of a key, 64 lowercase hex characters: the form the store keeps and looks keys up by. */
export function digestKey(key: string): string {
  return hash("sha256", key);
}

/**
 * The same digest as its 32 bytes in a latin1 string: what the key cache is keyed by, 48 bytes of
 * memory for each cached key against 80 for the hex form (~3 MB at the default 100,000 keys).
 */
export function rawDigestKey(key: string): string {
  return hash("sha256", key, "binary"); // "binary" is latin1
}

/** A raw digest (`rawDigestKey`) in the stored hex form (`digestKey`), and back. */
export const hexDigestOf = (raw: string): string => Buffer.from(raw, "latin1").toString("hex");
export const rawDigestOf = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A key id (the public handle of a key): a letter then 15 lowercase letters or digits. */
export function newKeyId(): string {
  const bytes = randomBytes(16);
  let id = ALPHABET[10 + 26 + (bytes[0]! % 26)]!;
  for (let i = 1; i < 16; i++) id += ALPHABET[bytes[i]! % 36]!.toLowerCase();
  return id;
}
