import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Authenticated encryption of small secrets at rest (an identity provider's client secret, the
 * OIDC login state in a cookie): AES-256-GCM with a random 96-bit nonce. The `context` is bound as
 * associated data, so a sealed value copied to another row or purpose does not open.
 *
 * Format: `v1.<nonce>.<ciphertext>.<tag>`, each part base64url.
 */
const VERSION = "v1";

export function seal(key: Buffer, plaintext: string, context: string): string {
  if (key.length !== 32) throw new Error("secret key must be 32 bytes");
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, nonce.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** The plaintext, or undefined when the value was tampered with, sealed under another key or context. */
export function open(key: Buffer, sealed: string, context: string): string | undefined {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  try {
    const nonce = Buffer.from(parts[1]!, "base64url");
    const tag = Buffer.from(parts[3]!, "base64url");
    if (nonce.length !== 12 || tag.length !== 16) return undefined;
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(parts[2]!, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}

/** Parses a configured key: 64 hex characters or base64/base64url of 32 bytes. */
export function parseSecretKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), "base64url");
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}
