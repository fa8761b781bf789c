import { randomUUID } from "node:crypto";
import { isAdminAction } from "../domain/actions.ts";
import { API_KEY_AUTHENTICATION } from "../domain/audit-chain.ts";
import { ApiError, BackendFailure } from "../domain/errors.ts";
import type { Db } from "../store/store.ts";
import type { Transaction } from "kysely";
import { appendAuditLog, type NewAuditEntry } from "../store/audit-chain.ts";
import { inTransaction } from "../store/group-commit.ts";
import { dataAccessAudited } from "../store/audit-settings.ts";
import type { Schema } from "../store/schema.ts";
import type { Ctx, Deps, Operation, RequestMeta } from "./context.ts";
import { accountName } from "../domain/resource-names.ts";
import type { Principal } from "../domain/principal.ts";
import { withoutKeys } from "../domain/key-shapes.ts";

export type { Operation } from "./context.ts";

/**
 * An operation recorded where no permission check runs (sign-in, operator commands, attempts by
 * someone not authenticated): it states its admin flag itself. Operations of an authenticated
 * principal (`audited`, `auditRefusals`) take it from the actions checked for the request.
 */
export interface UncheckedOperation extends Operation {
  isAdminAction: boolean;
}

const SECRET_FIELDS = /^(key|secret|clientsecret|client_secret|password|token|apikey|api_key|x-api-key|x_api_key|authorization)$/i;

/** The longest string an entry keeps (characters): a payload's value, or the status message. */
const MAX_TEXT = 4096;
/** The longest resource name an entry keeps (characters): a path may be as long as a request line. */
const MAX_RESOURCE = 1024;
/** The longest payload an entry keeps (characters of JSON). */
const MAX_PAYLOAD = 65_536;

/**
 * URL credentials (`https://user:password@host`, RFC 3986 §3.2.1) anywhere in a text, spelt as a
 * WHATWG URL parser takes them: after `scheme:` and any slashes or backslashes, everything up to
 * the last `@` before the path (a password may hold `@`, spaces, quotes or a quoting backslash; `https:user@host` and
 * `https:\\user@host` are URLs too). Any scheme written with `//`, and the special schemes without.
 */
const URL_USERINFO = /\b((?:[a-z][a-z0-9+.-]*:[\\/]{2}|(?:https?|wss?|ftp):[\\/]*))[^/?#\n]*@/gi;

/**
 * Text as an entry keeps it: a URL's credentials replaced by `[REDACTED]` (a refused webhook URL
 * `https://user:pass@…` once left its password in the log), anything shaped like a Hearth API key
 * too (`withoutKeys`: a key pasted into a URL path or a field, such as a mis-built base URL or a
 * key where its id belongs, was kept whole in the resource), and at most MAX_TEXT characters, with
 * how many were cut (a refused request carrying a megabyte in one field once wrote a megabyte).
 */
function scrubbed(text: string, max = MAX_TEXT): string {
  const clean = withoutKeys(text.replace(URL_USERINFO, "$1[REDACTED]@"));
  return clean.length <= max ? clean : `${clean.slice(0, max)}…[TRUNCATED ${clean.length - max} characters]`;
}

/** A copy of `value` with every secret-looking field replaced, texts scrubbed, and at most 100 items or fields per level, 8 levels deep. */
function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[TRUNCATED]";
  if (typeof value === "string") return scrubbed(value);
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, 100)
        .map(([k, v]) => [scrubbed(k), SECRET_FIELDS.test(k) ? "[REDACTED]" : redact(v, depth + 1)]),
    );
  }
  return value;
}

/** The stored payload: `redact`ed, and replaced by a note of its size when its JSON is longer than MAX_PAYLOAD characters. */
function storedPayload(payload: unknown): string {
  const json = JSON.stringify(redact(payload ?? {}));
  return json.length <= MAX_PAYLOAD ? json : JSON.stringify({ "[TRUNCATED]": `a payload of ${json.length} characters` });
}

interface Actor {
  accountId: string;
  email: string;
  /** The acting principal's uid; absent for the operator and for attempts by someone not authenticated. */
  principalUid?: string | undefined;
  apiKeyId: string;
  /** `USER`, `SERVICE_ACCOUNT`, `OPERATOR` or `UNAUTHENTICATED`; default: `USER` when a uid is given, else `UNAUTHENTICATED`. */
  principalType?: string | undefined;
  meta: RequestMeta;
}

/** How the actor authenticated, as the chain's `authentication` field: `apiKey:<id>`, else what the request carried. */
const authenticationOf = (actor: Actor): string => (actor.apiKeyId ? `${API_KEY_AUTHENTICATION}${actor.apiKeyId}` : (actor.meta.authentication ?? ""));

function statusOf(error: unknown): { code: number; message: string } {
  if (error === undefined) return { code: 0, message: "" };
  if (error instanceof ApiError) return { code: error.httpCode, message: `${error.status}: ${error.message}` };
  // A backend's failure (502, 504) is answered with its status and sentence: recorded as answered, not as an internal error.
  if (error instanceof BackendFailure) return { code: error.httpStatus, message: `${error.status}: ${error.message}` };
  return { code: 500, message: "INTERNAL: internal error" };
}

/**
 * Writes one audit entry (`error`: the refusal it records, if any), in `db` — a transaction, to
 * commit or roll back with the change it records.
 * @throws UNAVAILABLE (503, "the audit log could not be written; nothing was changed") when the
 * entry cannot be written; the cause goes to the process log. Never swallowed by callers.
 */
export async function writeAudit(db: Db, actor: Actor, op: UncheckedOperation, error?: unknown): Promise<void> {
  try {
    await insertEntry(db, actor, op, error);
  } catch (cause) {
    console.error(JSON.stringify({ level: "error", msg: "audit write failed", err: String(cause) }));
    throw auditUnavailable();
  }
}

/**
 * Text as stored: a NUL character (which PostgreSQL's text cannot hold) is written as `\u0000`, so a
 * refusal quoting hostile input is still recorded. The payload is JSON, where JSON.stringify escapes it.
 */
const storable = (text: string): string => text.replaceAll("\u0000", "\\u0000");

async function insertEntry(db: Db, actor: Actor, op: UncheckedOperation, error?: unknown): Promise<void> {
  await appendAuditLog(db, auditRow(actor, op, error));
}

/** The stored row of an entry, before its place in the chain (`error`: the refusal it records, if any). */
export function auditRow(actor: Actor, op: UncheckedOperation, error?: unknown): NewAuditEntry {
  const status = statusOf(error);
  return {
    id: randomUUID(),
    account_id: actor.accountId,
    timestamp: Date.now(),
    principal: storable(actor.email),
    principal_uid: actor.principalUid ?? "",
    method: storable(op.method),
    resource: storable(scrubbed(op.resource, MAX_RESOURCE)),
    message: storable(op.method),
    status_code: status.code,
    status_message: storable(scrubbed(status.message)),
    payload: storedPayload(op.payload),
    is_admin_action: op.isAdminAction ? 1 : 0,
    user_agent: storable(actor.meta.userAgent.slice(0, 512)),
    client_ip: storable(actor.meta.clientIp),
    api_key_id: actor.apiKeyId,
    principal_type: actor.principalType ?? (actor.principalUid ? "USER" : "UNAUTHENTICATED"),
    authentication: storable(authenticationOf(actor)),
    request_id: storable((actor.meta.requestId ?? "").slice(0, 256)),
  };
}

/** The actor of an entry for `principal`, in the request `meta`: its email, uid, API key and type. */
export const principalActor = (principal: Principal, meta: RequestMeta): Actor => ({
  accountId: principal.accountId,
  email: principal.email,
  principalUid: principal.uid,
  apiKeyId: principal.apiKeyId,
  principalType: principal.serviceAccount ? "SERVICE_ACCOUNT" : "USER",
  meta,
});

const actorOf = (ctx: Ctx): Actor => principalActor(ctx.principal, ctx.meta);

/** An admin action is one for which an admin action was checked (allowed or refused): see `authorize`. */
const checkedOperation = (ctx: Ctx, op: Operation): UncheckedOperation => ({ ...op, isAdminAction: ctx.checked.some(isAdminAction) });

/**
 * The answer when an audit entry cannot be written: nothing was changed (the change's transaction
 * is rolled back with it), and the caller may retry.
 */
const auditUnavailable = (): ApiError => new ApiError("UNAVAILABLE", "the audit log could not be written; nothing was changed");

/**
 * Runs a change and its audit entry in one transaction: no change without its entry, no entry
 * without its change. The entry is an admin action when an admin action was checked for the
 * request (`ctx.checked`). A refusal is not written here: the router writes it, once, as this
 * operation (see `auditRefused`).
 * @throws the change's error; UNAVAILABLE (503) when the entry cannot be written (the change is rolled back).
 */
export async function audited<T>(deps: Deps, ctx: Ctx, op: Operation, change: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  ctx.operation = op;
  // On SQLite, changes arriving together share one transaction, each in its own savepoint (store/group-commit.ts).
  return inTransaction(deps.store, async (trx) => {
    const result = await change(trx);
    await writeAudit(trx, actorOf(ctx), checkedOperation(ctx, op));
    return result;
  });
}

/**
 * Names the operation a refusal or failure of this request is audited as (by the router, once:
 * see `auditRefused`), then runs `work`: a read (a successful read is not audited), or a step that
 * cannot run inside one transaction (a streamed upload, an inference call's admission).
 */
export async function auditRefusals<T>(ctx: Ctx, op: Operation, work: () => Promise<T>): Promise<T> {
  ctx.operation = op;
  return work();
}

/**
 * The one entry of a refused or failed request by an authenticated principal, written in the
 * principal's own account (a path naming another account is never written there), as the
 * operation the service named (`ctx.operation`) or else `fallback`.
 * @throws UNAVAILABLE (503) when the entry cannot be written.
 */
export async function auditRefused(deps: Deps, ctx: Ctx, fallback: Operation, error: unknown): Promise<void> {
  if (ctx.summarised) return;
  await writeAudit(deps.store.db, actorOf(ctx), checkedOperation(ctx, ctx.operation ?? fallback), error);
}

/**
 * A data-access entry: a successful read (of users, API keys, the audit log) by an authenticated
 * principal, written only when its account switched them on (`auditSettings.dataAccessLogs`).
 * @throws UNAVAILABLE (503) when the entry cannot be written.
 */
export async function auditDataAccess(deps: Deps, ctx: Ctx, op: Operation): Promise<void> {
  if (!(await dataAccessAudited(deps.store.db, ctx.principal.accountId))) return;
  await writeAudit(deps.store.db, actorOf(ctx), checkedOperation(ctx, op));
}

/** Records an attempt on an account by someone who could not be authenticated. */
export async function auditUnauthenticated(
  deps: Deps,
  accountId: string,
  meta: RequestMeta,
  op: UncheckedOperation,
  error: ApiError,
  key: { email: string; apiKeyId: string } = { email: "", apiKeyId: "" },
): Promise<void> {
  await writeAudit(deps.store.db, { accountId, email: key.email, apiKeyId: key.apiKeyId, meta }, op, error);
}

/** One entry standing for the refused attempts from an address that were not audited one by one. */
export async function auditSuppressedAttempts(deps: Deps, s: { accountId: string; clientIp: string; suppressed: number; windowStart: number }): Promise<void> {
  const actor = { accountId: s.accountId, email: "", apiKeyId: "", meta: { userAgent: "", clientIp: s.clientIp } };
  const op = {
    method: "UnauthenticatedAttempts",
    resource: accountName(s.accountId),
    isAdminAction: true,
    payload: { attempts: s.suppressed, windowStart: new Date(s.windowStart).toISOString() },
  };
  // Written in the background, when the window closes: nobody is waiting for an answer, so a failed
  // write is reported in the process log (by writeEntry), with the count it could not record.
  await writeAudit(deps.store.db, actor, op, new ApiError("UNAUTHENTICATED", `${s.suppressed} more refused attempts from ${s.clientIp}`)).catch(() =>
    console.error(JSON.stringify({ level: "error", msg: "unrecorded refused attempts", accountId: s.accountId, clientIp: s.clientIp, attempts: s.suppressed })),
  );
}
