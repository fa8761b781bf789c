import { invalidArgument, notFound, permissionDenied } from "../domain/errors.ts";
import { generateKey, newKeyId } from "../domain/api-key-format.ts";
import { checkDisplayName } from "../domain/field-rules.ts";
import { lockAccount } from "../store/accounts.ts";
import * as keys from "../store/api-keys.ts";
import type { ListRequest } from "../store/list.ts";
import type { ApiKeyRow } from "../store/schema.ts";
import { keepAnActingAdminKey } from "./acting-admins.ts";
import { audited, auditRefusals } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";
import { requireGrantable } from "./permission-presets.ts";
import { authorize } from "./permissions.ts";
import { reserve } from "./quotas.ts";
import { getUserRow } from "./users.ts";
import { userEmails } from "../store/users.ts";
import { apiKeyView, type ApiKey } from "./views.ts";
import { apiKeyName, userName } from "../domain/resource-names.ts";

export interface CreateApiKeyInput {
  displayName?: string | undefined;
  /** Epoch milliseconds. */
  expireTime?: number | undefined;
}

/**
 * Creates a key for `userId`: anyone for itself (`apiKeys.create`); an admin for a service account
 * (`apiKeys.createForServiceAccount`); nobody for another human. The action is chosen from the path
 * before the owner is read, so an attempt on another principal is an admin action even when that
 * principal does not exist.
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
    // A key acts as its owner: minting one for a service account gives the caller that account's role.
    if (!self) await requireGrantable(trx, ctx, accountId, owner.role, owner.permission_preset);
    const displayName = checkDisplayName(input.displayName?.trim() || "default");
    const now = Date.now();
    if (input.expireTime !== undefined && input.expireTime <= now) throw invalidArgument("expireTime must be in the future");
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
      expire_time: input.expireTime ?? null,
      last_used: null,
      annotations: "{}",
    };
    await keys.insertApiKey(trx, row);
    deps.keyCache.forgetMissing(material.digest);
    return { ...apiKeyView(row, owner.email, null), key: material.key };
  });
}

function view(deps: Deps, row: ApiKeyRow, email: string): ApiKey {
  return apiKeyView(row, email, deps.lastUsed.peek(row.id) ?? row.last_used);
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
    const page = await keys.listApiKeys(db, accountId, everyone ? undefined : userId, req);
    const emails = await userEmails(db, accountId, [...new Set(page.rows.map((r) => r.user_id))]);
    return {
      apiKeys: page.rows.map((r) => view(deps, r, emails.get(r.user_id) ?? "")),
      nextPageToken: page.nextPageToken,
      totalSize: page.totalSize,
    };
  });
}

export async function getApiKey(deps: Deps, ctx: Ctx, accountId: string, userId: string, keyId: string): Promise<ApiKey> {
  const op = { method: "GetApiKey", resource: apiKeyName(accountId, userId, keyId) };
  return auditRefusals(ctx, op, async () => {
    authorize(ctx, userId === ctx.principal.userId ? "apiKeys.get" : "apiKeys.getOthers");
    const owner = await getUserRow(deps.store.db, accountId, userId);
    const row = await keys.getApiKey(deps.store.db, accountId, userId, keyId);
    if (!row) throw notFound(`API key "${keyId}" not found`);
    return view(deps, row, owner.email);
  });
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
    await keepAnActingAdminKey(trx, await getUserRow(trx, accountId, userId), keyId);
    await keys.deleteApiKey(trx, keyId);
  });
  await deps.cluster.invalidator.key(keyId);
}
