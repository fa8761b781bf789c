import { createHmac, randomBytes } from "node:crypto";
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { parseSecretKey } from "../domain/secret-box.ts";
import { privateDataDir } from "../store/private-files.ts";

const loaded = new Map<string, Buffer>();

/**
 * The 32-byte key that seals secrets at rest: `HEARTH_SECRET_KEY` when set; otherwise read from
 * `<dataDir>/secret-key`, which the first process to need it creates (mode 0600, exclusive create,
 * so two processes starting together agree on one key). Processes sharing a PostgreSQL database on
 * different machines must be given the same `HEARTH_SECRET_KEY`.
 */
export function serverKey(config: Config): Buffer {
  if (config.secretKey !== undefined) {
    const key = parseSecretKey(config.secretKey);
    if (!key) throw new Error("HEARTH_SECRET_KEY is not a valid key");
    return key;
  }
  const file = join(config.dataDir, "secret-key");
  const cached = loaded.get(file);
  if (cached) return cached;
  let key = readKeyFile(file);
  if (!key) {
    privateDataDir(config.dataDir);
    // Written whole under a private name, then linked into place: the link is atomic and fails if
    // another process got there first, so nobody ever reads a half-written key.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(temp, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    key = readKeyFile(file);
    if (!key) throw new Error(`${file} does not hold a valid key (64 hex characters)`);
  }
  loaded.set(file, key);
  return key;
}

const tokenKeys = new WeakMap<Config, Buffer>();

/**
 * The key that signs list page tokens: HMAC-SHA256(server key, "hearth page-token key v1") —
 * derived, so a page token's MAC says nothing about the sealing key, and the same on every process
 * given the same `HEARTH_SECRET_KEY` (or sharing the data directory's `secret-key`). 32 bytes.
 */
export function pageTokenKey(config: Config): Buffer {
  let key = tokenKeys.get(config);
  if (!key) {
    key = createHmac("sha256", serverKey(config)).update("hearth page-token key v1").digest();
    tokenKeys.set(config, key);
  }
  return key;
}

const urlKeys = new WeakMap<Config, Buffer>();

/**
 * The key that signs dataset upload and download URLs: HMAC-SHA256(server key, "hearth signed-url
 * key v1"), derived like `pageTokenKey`, so every process given the same server key accepts the
 * URLs any of them signed. 32 bytes.
 */
export function signedUrlKey(config: Config): Buffer {
  let key = urlKeys.get(config);
  if (!key) {
    key = createHmac("sha256", serverKey(config)).update("hearth signed-url key v1").digest();
    urlKeys.set(config, key);
  }
  return key;
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const key = parseSecretKey(text);
  if (!key) throw new Error(`${file} does not hold a valid key (64 hex characters)`);
  return key;
}
