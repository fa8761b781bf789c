import { createHmac, timingSafeEqual } from "node:crypto";
import { permissionDenied } from "./errors.ts";

/**
 * @module Signed URLs: a URL that itself authorizes one kind of request, like Fireworks'
 * (cloud storage) signed upload and download URLs. The query carries `expires` (Unix seconds) and
 * `signature`, base64url HMAC-SHA256 over the request's kind, account, dataset, file name, declared
 * size, issue time, expiry and signer (RFC 2104), so changing any of them voids it. No credential is ever put in
 * a URL. Like a cloud store's presigned URL, it acts for the principal that asked for it (`signer`),
 * and only as long as that principal may still do what it grants.
 */

/** What a signed URL lets its holder do: PUT one file (`upload`, at most `size` bytes) or GET it (`download`). */
export interface SignedGrant {
  kind: "upload" | "download";
  accountId: string;
  datasetId: string;
  filename: string;
  /** Upload only: the declared size in bytes, the most the PUT may send. */
  size?: number | undefined;
  /** When the URL was made, in Unix seconds: a signer whose sessions were revoked since no longer backs it. */
  issued: number;
  /** When the URL stops working, in Unix seconds. */
  expires: number;
  /**
   * Who asked for the URL: `key:ID` (an API key's id) or `user:UID` (a signed-in person's AIP-148
   * uid). Carried in the URL (`signer=`): ids, not credentials.
   */
  signer: string;
  /**
   * What the URL was issued for, read from the store again when it is used (never carried in the
   * URL): the dataset's create time for an upload, its stored upload id for a download. A dataset
   * deleted and re-created under the same id, or given new content, voids the URLs issued before.
   */
  revision: string;
}

function mac(key: Buffer, grant: SignedGrant): Buffer {
  const fields = [
    grant.kind,
    grant.accountId,
    grant.datasetId,
    grant.filename,
    String(grant.size ?? ""),
    String(grant.issued),
    String(grant.expires),
    grant.signer,
    grant.revision,
  ];
  return createHmac("sha256", key).update(JSON.stringify(fields)).digest();
}

/** The query string (without `?`) that authorizes `grant`: `[size=N&]issued=S&expires=S&signer=ID&signature=B64URL`. */
export function signGrant(key: Buffer, grant: SignedGrant): string {
  const query = new URLSearchParams();
  if (grant.size !== undefined) query.set("size", String(grant.size));
  query.set("issued", String(grant.issued));
  query.set("expires", String(grant.expires));
  query.set("signer", grant.signer);
  query.set("signature", mac(key, grant).toString("base64url"));
  return query.toString();
}

/**
 * Checks a presented signature against `grant` (compared in constant time), then its expiry.
 * @throws PERMISSION_DENIED (403) naming what is wrong: no signature, a signature that does not match, or an expired URL.
 */
export function checkGrant(key: Buffer, grant: SignedGrant, signature: string | undefined, nowMs: number): void {
  if (!signature) throw permissionDenied("this URL is not signed: ask :getUploadEndpoint or :getDownloadEndpoint for one");
  const given = Buffer.from(signature, "base64url");
  const expected = mac(key, grant);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw permissionDenied("the URL's signature does not match it: use the URL exactly as :getUploadEndpoint or :getDownloadEndpoint returned it");
  }
  if (grant.expires * 1000 <= nowMs) {
    throw permissionDenied(`the signed URL expired at ${new Date(grant.expires * 1000).toISOString()}: ask for a new one`);
  }
}
