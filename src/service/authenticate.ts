import { digestKey, digestsEqual, hasValidChecksum } from "../domain/api-key-format.ts";
import { unauthenticated } from "../domain/errors.ts";
import { findKeyByDigest } from "../store/api-keys.ts";
import type { Principal } from "../domain/principal.ts";
import type { Deps } from "./context.ts";
import { withPresetActions } from "./permission-presets.ts";

const malformed = () => unauthenticated("the API key is malformed (bad format or checksum); check that it was copied whole");
const notValid = () => unauthenticated("the API key is not valid");
const expired = () => unauthenticated("the API key has expired");

/**
 * Resolves an API key to the principal it acts for. The checksum is checked before any lookup;
 * then one SHA-256, a cache lookup, and only on a miss one indexed query (the stored digest then
 * compared in constant time). An expired key or a deleted owner is refused. The key itself is
 * never logged or stored; `lastUsed` is noted in memory and written behind in batches.
 */
export async function authenticateApiKey(deps: Deps, key: string): Promise<Principal> {
  if (!hasValidChecksum(key)) throw malformed();
  const digest = digestKey(key);
  const now = Date.now();
  const cache = deps.keyCache;
  const cached = cache.get(digest, now);
  if (cached) {
    if (cached.expireTime !== null && cached.expireTime <= now) throw expired();
    deps.lastUsed.note(cached.principal.apiKeyId, now);
    return cached.principal;
  }
  if (cache.isKnownMissing(digest, now)) throw notValid();

  const epoch = cache.epoch;
  const row = await findKeyByDigest(deps.store.db, digest);
  if (!row || !digestsEqual(row.digest, digest)) {
    cache.setMissing(digest, now, epoch);
    throw notValid();
  }
  // A custom role's preset is read with the key, so the cached principal carries its actions; a
  // preset edit invalidates its holders' keys on every process (service/permission-presets.ts).
  const principal = await withPresetActions(deps.store.db, {
    accountId: row.account_id,
    userId: row.user_id,
    uid: row.uid,
    email: row.email,
    role: row.role as Principal["role"],
    serviceAccount: row.service_account === 1,
    apiKeyId: row.id,
  });
  Object.freeze(principal);
  cache.set(digest, { principal, expireTime: row.expire_time, cachedAt: now }, epoch);
  if (row.expire_time !== null && row.expire_time <= now) throw expired();
  deps.lastUsed.note(row.id, now);
  return principal;
}
