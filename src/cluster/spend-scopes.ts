import { accountScope, keyScope, type MeteredCall } from "../domain/spend-ledger.ts";
import type { Db } from "../store/store.ts";
import { scopeSpendSince } from "../store/usage.ts";

/** The spend scopes a metered call's cost counts in: its account's and, when it used one, its API key's. */
export const scopesOf = (call: Pick<MeteredCall, "accountId" | "limitsKeyId">): string[] =>
  call.limitsKeyId ? [accountScope(call.accountId), keyScope(call.limitsKeyId)] : [accountScope(call.accountId)];

/** The metered spend of `scope` (see `accountScope`, `keyScope`) in the month starting `month`, from the store (nano-dollars). */
export function scopeSpendOf(db: Db, scope: string, month: string): Promise<number> {
  const [kind, id] = [scope.slice(0, scope.indexOf(":")), scope.slice(scope.indexOf(":") + 1)];
  return scopeSpendSince(db, kind === "key" ? { limitsKeyId: id } : { accountId: id }, month);
}
