import type { ApiError } from "../domain/errors.ts";
import { userName } from "../domain/ids.ts";
import { serviceAccountCannotSignIn } from "../domain/sign-in.ts";
import type { Db, Store } from "../store/store.ts";
import type { Config } from "../config.ts";
import { writeAudit } from "./audit.ts";
import type { Principal } from "../domain/principal.ts";
import type { RequestMeta } from "./context.ts";
import type { OutboundFetch } from "./outbound-fetch.ts";

/**
 * What the sign-in paths share. They need only the store and the configuration, so the operator
 * CLI (which has no running server) can use them too.
 */
export interface SignInDeps {
  store: Store;
  config: Config;
  /** How identity providers are reached; unset (the operator CLI): built from `config`. */
  outbound?: OutboundFetch | undefined;
}

/** How a principal tried to sign in; recorded in the audit payload. */
export type SignInVia = "oidc" | "oidc-token" | "oidc-refresh" | "link" | "session";

export interface SignInUser {
  account_id: string;
  id: string;
  email: string;
  role: string;
  service_account: number;
}

/** The principal a signed-in human acts as: no API key is involved. */
export function humanPrincipal(user: SignInUser): Principal {
  return { accountId: user.account_id, userId: user.id, email: user.email, role: user.role as Principal["role"], serviceAccount: false, apiKeyId: "" };
}

/** Records a sign-in (or sign-out), successful (no error) or refused, in the user's account with the user as principal. */
export async function auditSignIn(
  db: Db,
  user: SignInUser,
  via: SignInVia,
  meta: RequestMeta,
  payload: Record<string, unknown> = {},
  error?: ApiError,
  method: "SignIn" | "SignOut" = "SignIn",
): Promise<void> {
  await writeAudit(
    db,
    { accountId: user.account_id, email: user.email, apiKeyId: "", meta },
    { method, resource: userName(user.account_id, user.id), isAdminAction: false, payload: { via, ...payload } },
    error,
  );
}

/**
 * Service accounts never sign in (README, Sign-in): every path ends here with the same sentence and an
 * audit entry naming the service account. Returns the error for the caller to throw.
 */
export async function refuseServiceAccount(deps: SignInDeps, user: SignInUser, via: SignInVia, meta: RequestMeta): Promise<ApiError> {
  const error = serviceAccountCannotSignIn();
  await auditSignIn(deps.store.db, user, via, meta, {}, error);
  return markAudited(error);
}

const audited = new WeakSet<Error>();

/** Marks a refusal whose audit entry (naming the principal) is already written. */
export function markAudited<E extends Error>(error: E): E {
  audited.add(error);
  return error;
}

/** True for a refusal already recorded with its principal: the HTTP edge must not record it again. */
export function alreadyAudited(error: unknown): boolean {
  return error instanceof Error && audited.has(error);
}
