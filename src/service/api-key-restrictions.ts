/**
 * @module An API key's restrictions as stored and as the API takes them: checking what a create or
 * an UpdateApiKey asks for (each refusal names the field and the value), turning it into columns and
 * back, and the rule that a key never does more than its owner nor than the key that made it.
 */
import { ACTION_NAMES, isAction, overOthers, type Action } from "../domain/actions.ts";
import {
  checkCidr,
  checkModelPattern,
  INHERITED_RESTRICTIONS,
  requireWithin,
  type ApiKeyRestrictions,
  type RequestedRestrictions,
} from "../domain/api-key-restrictions.ts";
import { quoted } from "../domain/display-text.ts";
import { invalidArgument, permissionDenied } from "../domain/errors.ts";
import { NANO_PER_USD } from "../domain/pricing.ts";
import { formatTimestamp } from "../domain/time.ts";
import { limitsKeyOf, type Principal } from "../domain/principal.ts";
import type { NO_RESTRICTIONS } from "../store/api-keys.ts";
import type { ApiKeyRow, UserRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import type { Ctx } from "./context.ts";
import { roleActions } from "./permission-presets.ts";
import { requireHoldsAll } from "./permissions.ts";

/**
 * The restrictions a create or an update sends, as the API names them. A list left empty and a
 * limit of 0 mean "no restriction" (proto3's default value), so an update mask naming a field
 * without a value lifts that restriction.
 */
export interface RestrictionsInput {
  scopes?: string[] | undefined;
  allowedModels?: string[] | undefined;
  allowedCidrs?: string[] | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
  /** US dollars per calendar month. */
  monthlySpendUsd?: number | undefined;
}

/** The restriction columns of a key row. */
type RestrictionColumns = { -readonly [K in keyof typeof NO_RESTRICTIONS]: (typeof NO_RESTRICTIONS)[K] };

/** Most entries in `allowedModels` or `allowedCidrs`. */
const MAX_RESTRICTION_ENTRIES = 100;
/** The largest `monthlySpendUsd`: a million dollars a month (its nano-dollars stay far inside 2^53). */
const MAX_MONTHLY_SPEND_USD = 1_000_000;

/** The list checked entry by entry and de-duplicated, as its JSON column; null (no restriction) when empty. */
function checkList(field: string, list: readonly string[], check: (entry: string) => string, max = MAX_RESTRICTION_ENTRIES): string | null {
  const unique = [...new Set(list)];
  if (unique.length > max) throw invalidArgument(`${field} has ${unique.length} entries; at most ${max}`);
  const checked = [...new Set(unique.map(check))];
  return checked.length === 0 ? null : JSON.stringify(checked);
}

/** A scope: an action name of the vocabulary. @throws INVALID_ARGUMENT naming the unknown scope. */
function checkScope(scope: string): string {
  if (isAction(scope)) return scope;
  throw invalidArgument(`unknown scope ${quoted(scope.slice(0, 100))} in scopes: use action names of the vocabulary, e.g. ${ACTION_NAMES[0]}, inference.run`);
}

/**
 * The columns the fields present in `input` set (absent fields are not in the result). Lists are
 * stored de-duplicated, networks in canonical form; spend as nano-dollars.
 * @throws INVALID_ARGUMENT naming the field and the value: an unknown scope, a malformed model name
 *   or pattern, a malformed network or one with host bits set, too many entries, a limit out of range.
 */
export function restrictionColumns(input: RestrictionsInput): Partial<RestrictionColumns> {
  const out: Partial<RestrictionColumns> = {};
  if (input.scopes !== undefined) out.scopes = checkList("scopes", input.scopes, checkScope, ACTION_NAMES.length);
  if (input.allowedModels !== undefined) out.allowed_models = checkList("allowedModels", input.allowedModels, checkModelPattern);
  if (input.allowedCidrs !== undefined) out.allowed_cidrs = checkList("allowedCidrs", input.allowedCidrs, checkCidr);
  for (const field of ["rpm", "tpm"] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(`${field} must be a whole number of at least 0 (0: no per-key limit), got ${value}`);
    out[field] = value === 0 ? null : value;
  }
  const usd = input.monthlySpendUsd;
  if (usd !== undefined) {
    if (!Number.isFinite(usd) || usd < 0 || usd > MAX_MONTHLY_SPEND_USD) {
      throw invalidArgument(`monthlySpendUsd must be between 0 (no per-key limit) and ${MAX_MONTHLY_SPEND_USD}, got ${usd}`);
    }
    // A positive amount below half a nano-dollar would round to 0, which means "no limit": refused.
    const nanos = Math.round(usd * NANO_PER_USD);
    if (usd > 0 && nanos === 0) throw invalidArgument(`monthlySpendUsd must be 0 (no per-key limit) or at least 0.000000001 (one nano-dollar), got ${usd}`);
    out.monthly_spend_nanos = usd === 0 ? null : nanos;
  }
  return out;
}

/**
 * A create request with every restriction it leaves unset (absent) taken from the acting key's own
 * (`acting`: the caller's key's restrictions; none for a session, an OIDC token or an unrestricted
 * key), so that a key made through a restricted key keeps its limits. Scopes are not inherited: a
 * scoped key names the scopes it gives (`requireScopesGrantable`).
 */
export function inheritUnset<T extends RestrictionsInput>(input: T, acting: ApiKeyRestrictions | undefined): T {
  if (acting === undefined) return input;
  const out: RestrictionsInput = { ...input };
  for (const field of INHERITED_RESTRICTIONS) {
    if (out[field] === undefined && acting[field] !== undefined) Object.assign(out, { [field]: acting[field] });
  }
  return out as T;
}

/** The restrictions that `columns` set, as `requireWithin` compares them (a column absent: not compared; null: no restriction). */
function requestedRestrictions(columns: Partial<RestrictionColumns>): RequestedRestrictions {
  const out: RequestedRestrictions = {};
  const list = (json: string | null) => (json === null ? null : (JSON.parse(json) as string[]));
  if (columns.allowed_models !== undefined) out.allowedModels = list(columns.allowed_models);
  if (columns.allowed_cidrs !== undefined) out.allowedCidrs = list(columns.allowed_cidrs);
  if (columns.rpm !== undefined) out.rpm = columns.rpm;
  if (columns.tpm !== undefined) out.tpm = columns.tpm;
  const nanos = columns.monthly_spend_nanos;
  if (nanos !== undefined) out.monthlySpendUsd = nanos === null ? null : nanos / NANO_PER_USD;
  return out;
}

/**
 * Refuses restriction columns (those a create or an UpdateApiKey sets, or a rotated key's, which its
 * successor copies) that would go beyond the caller's own key's restrictions: `requireWithin`.
 * @throws PERMISSION_DENIED naming the field, the values beyond it and the caller's key's limit.
 */
export function requireWithinActingKey(ctx: Ctx, columns: Partial<RestrictionColumns>): void {
  requireWithin(ctx.principal.restrictions, requestedRestrictions(columns));
}

/** A key row's restrictions, as the principal carries them; undefined when the key has none. */
export function restrictionsOf(row: RestrictionColumns): ApiKeyRestrictions | undefined {
  const r: ApiKeyRestrictions = {};
  if (row.scopes !== null) r.scopes = JSON.parse(row.scopes) as Action[];
  if (row.allowed_models !== null) r.allowedModels = JSON.parse(row.allowed_models) as string[];
  if (row.allowed_cidrs !== null) r.allowedCidrs = JSON.parse(row.allowed_cidrs) as string[];
  if (row.rpm !== null) r.rpm = row.rpm;
  if (row.tpm !== null) r.tpm = row.tpm;
  if (row.monthly_spend_nanos !== null) r.monthlySpendUsd = row.monthly_spend_nanos / NANO_PER_USD;
  return Object.keys(r).length === 0 ? undefined : r;
}

/**
 * A key never does more than its owner nor than the key that makes or changes it: checks the scopes
 * a key of `owner` is given (`scopes`: the JSON column, null for none).
 * - every scope must be an action the owner's current role holds (a role downgrade later narrows
 *   the key further: its effective permissions are scopes ∩ role, see `holds`);
 * - a caller acting through a scoped key gives only scopes it holds itself, and never an unscoped key;
 * - a key of another principal (a service account) acts as that principal, so a scope over the
 *   owner's own things is one over another's to the caller (`overOthers`: `datasets.manageOwn`
 *   needs `datasets.manageOthers`, `apiKeys.delete` needs `apiKeys.deleteOthers`); an unscoped one
 *   gives the caller that principal's whole role, which the caller checks with `requireMayActAs`.
 * @throws PERMISSION_DENIED naming the scopes beyond the owner's role or beyond the caller's key.
 */
export async function requireScopesGrantable(db: Db, ctx: Ctx, owner: UserRow, scopes: string | null): Promise<void> {
  const callerScopes = ctx.principal.restrictions?.scopes;
  if (scopes === null) {
    if (callerScopes) {
      throw permissionDenied(`this API key is limited to scopes ${callerScopes.join(", ")}: a key it creates or changes must set scopes within them`);
    }
    return;
  }
  const list = JSON.parse(scopes) as string[];
  const ownerHolds = new Set(await roleActions(db, owner.account_id, owner.role, owner.permission_preset));
  const beyond = list.filter((s) => !ownerHolds.has(s));
  if (beyond.length > 0) {
    const preset = owner.permission_preset ? ` (permission preset "${owner.permission_preset}")` : "";
    throw permissionDenied(
      `scopes ${beyond.join(", ")} are beyond the role "${owner.role}"${preset} of the key's owner "${owner.id}": a key never does more than its owner`,
    );
  }
  if (owner.id === ctx.principal.userId) return requireHoldsAll(ctx, list, "give an API key scopes beyond its own");
  requireHoldsAll(ctx, new Set(list.map(overOthers)), `give an API key of "${owner.id}", which acts as it, scopes over what is its own`);
}

/**
 * The `limits_key_id` of a key made through `acting`: a key with a per-key limit (rpm, tpm or
 * monthlySpendUsd) shares its counters with every key made through it, so that minting keys never
 * multiplies its budget ("a key never does more than the key it is made through"); otherwise none.
 */
export function limitsOfActingKey(acting: Principal): string {
  const r = acting.restrictions;
  return acting.apiKeyId && r && (r.rpm !== undefined || r.tpm !== undefined || r.monthlySpendUsd !== undefined) ? limitsKeyOf(acting) : "";
}

/**
 * Refuses, through a key with per-key limits, rotating or enabling a key that does not share its
 * counters: the key would count on its own, a budget beside the acting key's (a rotated key's
 * successor secret goes to the caller; an enabled one may be in the caller's hands). Keys made or
 * rotated through the acting key share them and pass.
 * @param verb how the refusal names the act: `rotate` or `enable`.
 * @throws PERMISSION_DENIED naming the key.
 */
function requireSharesActingKeyCounters(ctx: Ctx, row: { id: string; limits_key_id: string }, verb: "rotate" | "enable"): void {
  const acting = limitsOfActingKey(ctx.principal);
  if (acting !== "" && (row.limits_key_id || row.id) !== acting) {
    throw permissionDenied(
      `this API key has its own rpm, tpm or monthlySpendUsd, so it may ${verb} only keys that share its counters (made or rotated through it); API key "${row.id}" does not`,
    );
  }
}

/**
 * A key that the caller's key brings back (enables) or rotates to a new secret must lie within the
 * caller's key, as one it creates does: scopes it may give (`requireScopesGrantable`), networks,
 * models and limits no wider (`requireWithinActingKey`), and counters it shares
 * (`requireSharesActingKeyCounters`).
 * @param verb how a refusal of the counters names the act.
 * @throws PERMISSION_DENIED naming what lies beyond the caller's key.
 */
export async function requireKeyWithinActingKey(db: Db, ctx: Ctx, owner: UserRow, row: ApiKeyRow, verb: "rotate" | "enable"): Promise<void> {
  await requireScopesGrantable(db, ctx, owner, row.scopes);
  requireWithinActingKey(ctx, row);
  requireSharesActingKeyCounters(ctx, row, verb);
}

/**
 * The expiry (epoch ms; null: never) of a key made or rotated through the caller's key: a key never
 * outlives the key it is made through (a short-lived key must not mint a lasting one). `expireTime`
 * is the one chosen so far; unless the request named it (`requested`), a later one is brought back
 * to the acting key's, as an unset restriction is inherited. Without an acting key (a session), as chosen.
 * @throws PERMISSION_DENIED when the request names an expiry after the acting key's, or none while it has one.
 */
export async function withinActingKeyExpiry(db: Db, ctx: Ctx, expireTime: number | null, requested: boolean): Promise<number | null> {
  if (!ctx.principal.apiKeyId) return expireTime;
  const acting = await db.selectFrom("api_keys").select("expire_time").where("id", "=", ctx.principal.apiKeyId).executeTakeFirst();
  const limit = acting?.expire_time ?? null;
  if (limit === null || (expireTime !== null && expireTime <= limit)) return expireTime;
  if (requested)
    throw permissionDenied(
      `expireTime ${expireTime === null ? "(none)" : formatTimestamp(expireTime)} is after the expiry of the API key making this request (${formatTimestamp(limit)}); a key never outlives the key it is made or rotated through`,
    );
  return limit;
}
