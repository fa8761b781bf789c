import { invalidArgument, notFound, permissionDenied } from "../domain/errors.ts";
import { formatTimestamp } from "../domain/time.ts";
import { generateKey, newKeyId, rawDigestOf } from "../domain/api-key-format.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { lockAccount } from "../store/accounts.ts";
import * as keys from "../store/api-keys.ts";
import type { ListRequest } from "../store/list.ts";
import type { ApiKeyRow } from "../store/schema.ts";
import { keepAnActingAdminKey } from "./acting-admins.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { requireMayActAs, requireMayChangeKeysOf } from "./permission-presets.ts";
import { authorize, holds } from "./permissions.ts";
import { reserve } from "./quotas.ts";
import { atUsageTime } from "./usage-time.ts";
import { keyExpiry } from "./key-policy.ts";
import { getUserRow } from "./users.ts";
import { userEmails } from "../store/users.ts";
import { apiKeyView, type ApiKey } from "./views.ts";
import { apiKeyName, userName } from "../domain/resource-names.ts";
import {
  inheritUnset,
  limitsOfActingKey,
  requireScopesGrantable,
  requireWithinActingKey,
  restrictionColumns,
  type RestrictionsInput,
  withinActingKeyExpiry,
} from "./api-key-restrictions.ts";

export interface CreateApiKeyInput extends RestrictionsInput {
  displayName?: string | undefined;
  /** Epoch milliseconds. */
  expireTime?: number | undefined;
  /** Fireworks' key annotations (bounded by the route, `annotations` in http/schemas.ts); stored as JSON. */
  annotations?: Record<string, string> | undefined;
}

/**
 * Creates a key for `userId`: anyone for itself (`apiKeys.create`); an admin for a service account
 * (`apiKeys.createForServiceAccount`); nobody for another human. The action is chosen from the path
 * before the owner is read, so an attempt on another principal is an admin action even when that
 * principal does not exist. Restrictions (scopes, allowedModels, allowedCidrs, rpm, tpm,
 * monthlySpendUsd) are optional; scopes stay within the owner's role and the caller's own key's
 * scopes (`requireScopesGrantable`). Through a restricted key, every other restriction left unset is
 * that key's, and none may be wider than it (`requireWithinActingKey`). The expiry keeps to the
 * account's key policy (`keyExpiry`: without `expireTime` the policy's default lifetime applies; a
 * breach is INVALID_ARGUMENT naming the rule). `annotations` (Fireworks' Create API Key) are kept as
 * given and answered by every get and list; they cannot be changed afterwards (`updateApiKey`).
 */
export async function createApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, input: CreateApiKeyInput): Promise<ApiKey> {
  const self = userId === ctx.principal.userId;
  const op = { method: "CreateApiKey", resource: userName(accountId, userId), payload: input };
  return audited(deps, ctx, op, async (trx) => {
    authorize(ctx, self ? "apiKeys.create" : "apiKeys.createForServiceAccount");
    // Locked before the owner is read: a deletion committed meanwhile is then seen (NOT_FOUND), not
    // a key inserted for an owner that is gone (a foreign-key failure, a 500, on PostgreSQL).
    await lockAccount(deps.store, trx, accountId);
    const owner = await getUserRow(trx, accountId, userId);
    if (!self && owner.service_account !== 1) throw permissionDenied("API keys of a human user can only be created by that user");
    // Made through a restricted key: what the request leaves unset is the acting key's, and nothing wider.
    const restrictions = { ...keys.NO_RESTRICTIONS, ...restrictionColumns(inheritUnset(input, ctx.principal.restrictions)) };
    requireWithinActingKey(ctx, restrictions);
    await requireScopesGrantable(trx, ctx, owner, restrictions.scopes);
    // A key acts as its owner: minting one for a service account gives the caller that account's
    // role, its own things being another's to the caller (a scoped key, only its scopes: checked above).
    if (!self && restrictions.scopes === null) await requireMayActAs(trx, ctx, owner);
    const displayName = checkDisplayName(input.displayName?.trim() || "default");
    const now = deps.clock.now();
    if (input.expireTime !== undefined && input.expireTime <= now) throw invalidArgument("expireTime must be in the future");
    const expireTime = await withinActingKeyExpiry(
      trx,
      ctx,
      await keyExpiry(trx, accountId, now, owner.service_account !== 1, input.expireTime),
      input.expireTime !== undefined,
    );
    await reserve(deps, trx, accountId, "api-keys-per-user", 1, userId);
    const material = generateKey(deps.config.keyPrefix);
    const row: ApiKeyRow = {
      id: newKeyId(),
      account_id: accountId,
      user_id: userId,
      display_name: displayName,
      digest: material.digest,
      prefix: material.displayPrefix,
      create_time: now,
      expire_time: expireTime,
      last_used: null,
      annotations: JSON.stringify(input.annotations ?? {}),
      state: "ENABLED",
      disable_reason: "",
      last_used_ip: "",
      last_used_user_agent: "",
      successor_key_id: "",
      limits_key_id: limitsOfActingKey(ctx.principal),
      parent_key_id: ctx.principal.apiKeyId,
      ...restrictions,
    };
    await keys.insertApiKey(trx, row);
    deps.keyCache.forgetMissing(rawDigestOf(material.digest));
    return { ...apiKeyView(row, owner.email), key: material.key };
  });
}

function view(deps: Deps, row: ApiKeyRow, email: string): ApiKey {
  return apiKeyView(row, email, deps.lastUsed.peek(row.id));
}

/** Whether two annotation maps hold the same entries, in whatever order. */
function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Lists one principal's keys, or with `userId` "-" (AIP-159) every key of the account (admin). */
export async function listApiKeys(deps: Deps, ctx: Ctx, accountId: string, userId: string, req: ListRequest) {
  const everyone = userId === "-";
  const op = { method: "ListApiKeys", resource: userName(accountId, userId) };
  return auditRefusals(ctx, op, async () => {
    if (userId === ctx.principal.userId) authorize(ctx, "apiKeys.list");
    else authorize(ctx, "apiKeys.listOthers", everyone ? "list every principal's API keys" : undefined);
    const db = deps.store.db;
    if (!everyone) await getUserRow(db, accountId, userId);
    const page = await keys.listApiKeys(db, accountId, everyone ? undefined : userId, await atUsageTime(deps, req));
    const emails = await userEmails(db, accountId, [...new Set(page.rows.map((r) => r.user_id))]);
    return {
      apiKeys: page.rows.map((r) => view(deps, r, emails.get(r.user_id) ?? "")),
      nextPageToken: page.nextPageToken,
      totalSize: page.totalSize,
    };
  });
}

/**
 * GetApiKey. With `userId` "-" (AIP-159's unique resource lookup: key ids are unique) the key is
 * found whoever holds it, and answered under its owner's name; another principal's key is then
 * shown only to a caller holding `apiKeys.getOthers`, and to any other is the same 404 as a
 * missing key, so that other principals' key ids cannot be probed.
 * @throws NOT_FOUND (no such key, or owner), PERMISSION_DENIED (another principal's key, named by its owner, without `apiKeys.getOthers`).
 */
export async function getApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string): Promise<ApiKey> {
  const op = { method: "GetApiKey", resource: apiKeyName(accountId, userId, keyId) };
  return auditRefusals(ctx, op, async () => {
    const db = deps.store.db;
    if (userId === "-") {
      const row = await keys.getApiKey(db, accountId, undefined, keyId);
      if (row?.user_id === ctx.principal.userId) authorize(ctx, "apiKeys.get");
      else if (!row || !holds(ctx.principal, "apiKeys.getOthers")) throw notFound(`API key "${keyId}" not found`);
      // Checked once held, so that reading another principal's key is audited as the admin action it is, as by its owner's name.
      else authorize(ctx, "apiKeys.getOthers");
      return view(deps, row, (await getUserRow(db, accountId, row.user_id)).email);
    }
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.get" : "apiKeys.getOthers");
    const owner = await getUserRow(db, accountId, userId);
    const row = await keys.getApiKey(db, accountId, userId, keyId);
    if (!row) throw notFound(`API key "${keyId}" not found`);
    return view(deps, row, owner.email);
  });
}

/** What UpdateApiKey changes (the fields present; see `applyUpdateMask`). */
export interface UpdateApiKeyInput extends RestrictionsInput {
  displayName?: string | undefined;
}

/**
 * UpdateApiKey (AIP-134): changes a key's display name and restrictions — its own key with
 * `apiKeys.update`, another principal's with `apiKeys.updateOthers`. New scopes stay within the
 * owner's current role and the caller's own key's scopes, every other restriction set within the
 * caller's own key's (`requireWithinActingKey`); the key's cached principal is dropped on
 * every process, so the change holds from its next request. `immutable` holds what the body sent
 * of the fields set at creation (`expireTime`, `annotations`: Fireworks updates neither): the
 * key's own values are accepted, others refused.
 * @throws INVALID_ARGUMENT naming the field and value; PERMISSION_DENIED naming the action or scopes; NOT_FOUND.
 */
export async function updateApiKey(
  deps: Deps,
  ctx: Ctx,
  accountId: string,
  userId: string,
  keyId: string,
  input: UpdateApiKeyInput,
  immutable: { expireTime?: number | null | undefined; annotations?: Record<string, string> | undefined } = {},
): Promise<ApiKey> {
  const op = { method: "UpdateApiKey", resource: apiKeyName(accountId, userId, keyId), payload: input };
  const updated = await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.update" : "apiKeys.updateOthers");
    await lockAccount(deps.store, trx, accountId);
    const owner = await getUserRow(trx, accountId, userId);
    const row = await keys.getApiKey(trx, accountId, userId, keyId);
    if (!row) throw notFound(`API key "${keyId}" not found`);
    await requireMayChangeKeysOf(trx, ctx, owner, "change");
    // Set at creation (AIP-203 IMMUTABLE): sent back unchanged it is fine; changed, it is refused, not ignored.
    if (immutable.expireTime !== undefined && immutable.expireTime !== row.expire_time) {
      const stored = row.expire_time === null ? "none" : formatTimestamp(row.expire_time);
      throw invalidArgument(`expireTime cannot be changed (the key's is ${stored}); rotate the key with the expireTime you want instead`);
    }
    if (immutable.annotations !== undefined && !sameAnnotations(immutable.annotations, JSON.parse(row.annotations) as Record<string, string>)) {
      throw invalidArgument(`annotations cannot be changed (the key's are ${row.annotations}); create a key with the annotations you want instead`);
    }
    const columns = restrictionColumns(input);
    requireWithinActingKey(ctx, columns);
    if (columns.scopes !== undefined) {
      await requireScopesGrantable(trx, ctx, owner, columns.scopes);
      if (columns.scopes === null && userId !== ctx.principal.userId) await requireMayActAs(trx, ctx, owner);
    }
    const next: ApiKeyRow = { ...row, ...columns };
    if (input.displayName !== undefined) next.display_name = checkDisplayName(input.displayName.trim() || "default");
    if (next.display_name !== row.display_name) await keys.setApiKeyDisplayName(trx, keyId, next.display_name);
    await keys.setApiKeyRestrictions(trx, keyId, columns);
    return view(deps, next, owner.email);
  });
  await deps.cluster.invalidator.key(keyId);
  return updated;
}

export async function deleteApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string): Promise<void> {
  const op = { method: "DeleteApiKey", resource: apiKeyName(accountId, userId, keyId) };
  await audited(deps, ctx, op, async (trx) => {
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.delete" : "apiKeys.deleteOthers");
    // Serialises with a concurrent deletion of the owner, which removes its keys: then this is a 404,
    // not a 200 with an audit entry for a deletion that deleted nothing.
    await lockAccount(deps.store, trx, accountId);
    const row = await keys.getApiKey(trx, accountId, userId, keyId);
    if (!row) throw notFound(`API key "${keyId}" not found`);
    const owner = await getUserRow(trx, accountId, userId);
    await requireMayChangeKeysOf(trx, ctx, owner, "delete");
    await keepAnActingAdminKey(trx, owner, keyId);
    await keys.deleteApiKey(trx, keyId, deps.clock.now());
  });
  await deps.cluster.invalidator.key(keyId);
}
