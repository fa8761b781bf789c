import { digestKey, digestsEqual, hasValidChecksum } from "../domain/api-key-format.ts";
import { unauthenticated } from "../domain/errors.ts";
import { findKeyByDigest } from "../store/api-keys.ts";
import type { Deps, Principal } from "./context.ts";

/**
 * Resolves an API key to the principal it acts for. The checksum is checked before any lookup;
 * the stored digest is compared in constant time; an expired key or a deleted owner is refused.
 * The key itself is never logged or stored.
 */
export async function authenticateApiKey(deps: Deps, key: string): Promise<Principal> {
  if (!hasValidChecksum(key, deps.config.keyPrefix)) {
    throw unauthenticated("the API key is malformed (bad format or checksum); check that it was copied whole");
  }
  const digest = digestKey(key);
  const row = await findKeyByDigest(deps.store.db, digest);
  if (!row || !digestsEqual(row.digest, digest)) throw unauthenticated("the API key is not valid");
  const now = Date.now();
  if (row.expire_time !== null && row.expire_time <= now) throw unauthenticated("the API key has expired");
  deps.lastUsed.note(row.id, now);
  return {
    accountId: row.account_id,
    userId: row.user_id,
    email: row.email,
    role: row.role as Principal["role"],
    serviceAccount: row.service_account === 1,
    apiKeyId: row.id,
  };
}
