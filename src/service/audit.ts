import { randomUUID } from "node:crypto";
import { isAdminAction } from "../domain/actions.ts";
import { ApiError } from "../domain/errors.ts";
import type { Db } from "../store/store.ts";
import type { Transaction } from "kysely";
import { insertAuditLog } from "../store/audit-logs.ts";
import type { Schema } from "../store/schema.ts";
import type { Ctx, Deps, RequestMeta } from "./context.ts";

/** What an audit entry records about an operation. */
export interface Operation {
  /** RPC-style method name, e.g. `CreateUser`. */
  method: string;
  resource: string;
  /** The request, with secrets redacted here. */
  payload?: unknown;
}

/**
 * An operation recorded where no permission check runs (sign-in, operator commands, attempts by
 * someone not authenticated): it states its admin flag itself. Operations of an authenticated
 * principal (`audited`, `auditRefusals`) take it from the actions checked for the request.
 */
export interface UncheckedOperation extends Operation {
  isAdminAction: boolean;
}

const SECRET_FIELDS = /^(key|secret|clientsecret|client_secret|password|token|apikey|api_key|authorization)$/i;

/** A copy of `value` with every secret-looking field replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[TRUNCATED]";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.test(k) ? "[REDACTED]" : redact(v, depth + 1)]));
  }
  return value;
}

interface Actor {
  accountId: string;
  email: string;
  apiKeyId: string;
  meta: RequestMeta;
}

function statusOf(error: unknown): { code: number; message: string } {
  if (error === undefined) return { code: 0, message: "" };
  if (error instanceof ApiError) return { code: error.httpCode, message: `${error.status}: ${error.message}` };
  return { code: 500, message: "INTERNAL: internal error" };
}

export async function writeAudit(db: Db, actor: Actor, op: UncheckedOperation, error?: unknown): Promise<void> {
  const status = statusOf(error);
  await insertAuditLog(db, {
    id: randomUUID(),
    account_id: actor.accountId,
    timestamp: Date.now(),
    principal: actor.email,
    method: op.method,
    resource: op.resource,
    message: op.method,
    status_code: status.code,
    status_message: status.message,
    payload: JSON.stringify(redact(op.payload ?? {})),
    is_admin_action: op.isAdminAction ? 1 : 0,
    user_agent: actor.meta.userAgent.slice(0, 512),
    client_ip: actor.meta.clientIp,
    api_key_id: actor.apiKeyId,
  });
}

const actorOf = (ctx: Ctx): Actor => ({
  accountId: ctx.principal.accountId,
  email: ctx.principal.email,
  apiKeyId: ctx.principal.apiKeyId,
  meta: ctx.meta,
});

/** An admin action is one for which an admin action was checked (allowed or refused): see `authorize`. */
const checkedOperation = (ctx: Ctx, op: Operation): UncheckedOperation => ({ ...op, isAdminAction: ctx.checked.some(isAdminAction) });

/**
 * Runs a change and its audit entry in one transaction: no change without its entry, no entry
 * without its change. A refused or failed change is recorded afterwards with its status. The entry
 * is an admin action when an admin action was checked for the request (`ctx.checked`).
 */
export async function audited<T>(deps: Deps, ctx: Ctx, op: Operation, change: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  try {
    return await deps.store.db.transaction().execute(async (trx) => {
      const result = await change(trx);
      await writeAudit(trx, actorOf(ctx), checkedOperation(ctx, op));
      return result;
    });
  } catch (error) {
    await writeAudit(deps.store.db, actorOf(ctx), checkedOperation(ctx, op), error).catch(() => undefined);
    throw error;
  }
}

/** For reads: records a refusal (never a success) and rethrows it. */
export async function auditRefusals<T>(deps: Deps, ctx: Ctx, op: Operation, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ApiError && error.status === "PERMISSION_DENIED") {
      await writeAudit(deps.store.db, actorOf(ctx), checkedOperation(ctx, op), error).catch(() => undefined);
    }
    throw error;
  }
}

/** Records an attempt on an account by someone who could not be authenticated. */
export async function auditUnauthenticated(deps: Deps, accountId: string, meta: RequestMeta, op: UncheckedOperation, error: ApiError): Promise<void> {
  await writeAudit(deps.store.db, { accountId, email: "", apiKeyId: "", meta }, op, error).catch(() => undefined);
}

/** One entry standing for the refused attempts from an address that were not audited one by one. */
export async function auditSuppressedAttempts(deps: Deps, s: { accountId: string; clientIp: string; suppressed: number; windowStart: number }): Promise<void> {
  const actor = { accountId: s.accountId, email: "", apiKeyId: "", meta: { userAgent: "", clientIp: s.clientIp } };
  const op = {
    method: "UnauthenticatedAttempts",
    resource: `accounts/${s.accountId}`,
    isAdminAction: true,
    payload: { attempts: s.suppressed, windowStart: new Date(s.windowStart).toISOString() },
  };
  await writeAudit(deps.store.db, actor, op, new ApiError("UNAUTHENTICATED", `${s.suppressed} more refused attempts from ${s.clientIp}`)).catch(
    () => undefined,
  );
}
