import { digestsEqual, hasValidChecksum, hexDigestOf, rawDigestKey } from "../domain/api-key-format.ts";
import { ApiError, BEARER_CHALLENGE, unauthenticated } from "../domain/errors.ts";
import { findKeyByDigest, type KeyWithOwner } from "../store/api-keys.ts";
import type { Db } from "../store/store.ts";
import type { Principal } from "../domain/principal.ts";
import type { Deps, RequestMeta } from "./context.ts";
import { withPresetActions } from "./permission-presets.ts";
import { restrictionsOf } from "./api-key-restrictions.ts";
import { networkAllows } from "../domain/api-key-restrictions.ts";
import { describeDisableReason } from "../domain/api-key-state.ts";

const malformed = () => unauthenticated("the API key is malformed (bad format or checksum); check that it was copied whole");
const notValid = () => unauthenticated("the API key is not valid");
/**
 * The refusal of a real key that may not act (expired or disabled): it names the key's account and
 * principal, so the attempt is audited there, with the owner's email and the key, whatever path it
 * came by (a gateway's /verifyApiKey, inference, another account's path): after a leak, those are
 * the attempts the account's admins need to see.
 */
export class KeyRefusal extends ApiError {
  readonly accountId: string;
  readonly email: string;
  readonly apiKeyId: string;

  constructor(message: string, key: { accountId: string; email: string; apiKeyId: string }) {
    super("UNAUTHENTICATED", message, { ...BEARER_CHALLENGE });
    this.accountId = key.accountId;
    this.email = key.email;
    this.apiKeyId = key.apiKeyId;
  }
}

type KeyOf = ConstructorParameters<typeof KeyRefusal>[1];
const expired = (key: KeyOf) => new KeyRefusal("the API key has expired", key);
const disabled = (reason: string, key: KeyOf) =>
  new KeyRefusal(`the API key is disabled (${describeDisableReason(reason)}); use another key, or have it enabled again`, key);

/** Distinct account ids and roles seen (at most `SHARED_MAX`), so that cached principals share one copy of each. */
const sharedValues = new Map<string, string>();
const SHARED_MAX = 10_000;

/**
 * One copy of a value many cached principals repeat (an account id, a role): each row read brings
 * its own, ~32 bytes for each of the key cache's entries (measured: 463 → 403 bytes an entry).
 */
function shared(value: string): string {
  const found = sharedValues.get(value);
  if (found !== undefined) return found;
  if (sharedValues.size < SHARED_MAX) sharedValues.set(value, value);
  return value;
}

/** The key's restrictions, cached with its principal (absent when the key has none). */
function withRestrictions(row: Parameters<typeof restrictionsOf>[0]): Pick<Principal, "restrictions"> {
  const restrictions = restrictionsOf(row);
  return restrictions ? { restrictions: Object.freeze(restrictions) } : {};
}

/**
 * Notes a use of the principal's key at `now` by the client `meta` describes — unless the key's
 * `allowedCidrs` refuse that client's address: the route refuses such a request
 * (`requireAllowedNetwork`), and a refused request is no use, so `lastUsed` and `lastUsedIp` never
 * show it. Read from the principal's own restrictions: no store read.
 */
function noteUse(deps: Deps, principal: Principal, now: number, meta: RequestMeta | undefined): void {
  if (meta !== undefined && !networkAllows(principal.restrictions, meta.clientIp)) return;
  deps.lastUsed.note(principal.apiKeyId, now, meta);
}

/**
 * The principal a key (read with its owner) acts for, frozen. A custom role's preset is read with
 * the key, so a cached principal carries its actions; a preset edit invalidates its holders' keys
 * on every process (service/permission-presets.ts). Whether the key may act now (state, expiry) is
 * the caller's check.
 */
export async function keyPrincipal(db: Db, row: KeyWithOwner): Promise<Principal> {
  const principal = await withPresetActions(db, {
    accountId: shared(row.account_id),
    userId: row.user_id,
    uid: row.uid,
    email: row.email,
    role: shared(row.role) as Principal["role"],
    serviceAccount: row.service_account === 1,
    apiKeyId: row.id,
    ...(row.limits_key_id ? { limitsKeyId: row.limits_key_id } : {}),
    ...withRestrictions(row),
  });
  return Object.freeze(principal);
}

/**
 * Resolves an API key to the principal it acts for. The checksum is checked before any lookup;
 * then one SHA-256, a cache lookup, and only on a miss one indexed query (the stored digest then
 * compared in constant time). An expired key (at `deps.clock.now()`), a disabled key (with a
 * sentence naming its disable reason) or a deleted owner is refused. The key itself is never logged
 * or stored; `lastUsed` and the client's address and User-Agent (`meta`) are noted in memory and
 * written behind in batches — not for an address outside the key's `allowedCidrs` (see `noteUse`).
 * @throws UNAUTHENTICATED (401).
 */
export async function authenticateApiKey(deps: Deps, key: string, meta?: RequestMeta): Promise<Principal> {
  if (!hasValidChecksum(key)) throw malformed();
  const raw = rawDigestKey(key);
  const now = deps.clock.now();
  const cache = deps.keyCache;
  const cached = cache.get(raw, now);
  if (cached) {
    if (cached.disabledFor !== undefined) throw disabled(cached.disabledFor, cached.principal);
    if (cached.expireTime !== null && cached.expireTime <= now) throw expired(cached.principal);
    noteUse(deps, cached.principal, now, meta);
    return cached.principal;
  }
  if (cache.isKnownMissing(raw, now)) throw notValid();

  const epoch = cache.epoch;
  const digest = hexDigestOf(raw);
  const row = await findKeyByDigest(deps.store.db, digest);
  if (!row || !digestsEqual(row.digest, digest)) {
    cache.setMissing(raw, now, epoch);
    throw notValid();
  }
  const principal = await keyPrincipal(deps.store.db, row);
  const disabledFor = row.state === "DISABLED" ? row.disable_reason : undefined;
  cache.set(raw, { principal, expireTime: row.expire_time, disabledFor, cachedAt: now }, epoch);
  if (disabledFor !== undefined) throw disabled(disabledFor, principal);
  if (row.expire_time !== null && row.expire_time <= now) throw expired(principal);
  noteUse(deps, principal, now, meta);
  return principal;
}
