import { ApiError } from "../domain/errors.ts";
import { serviceAccountCannotSignIn } from "../domain/sign-in.ts";
import type { Db, Store } from "../store/store.ts";
import type { Config } from "../config.ts";
import { writeAudit } from "./audit.ts";
import { systemClock, type Clock } from "../domain/clock.ts";
import { setLastSignIn } from "../store/users.ts";
import type { Principal } from "../domain/principal.ts";
import type { RequestMeta } from "./context.ts";
import type { OutboundFetch } from "./outbound-fetch.ts";
import { userName } from "../domain/resource-names.ts";
import { enqueueWebhookEvent } from "./webhook-events.ts";

/**
 * What the sign-in paths share. They need only the store and the configuration, so the operator
 * CLI (which has no running server) can use them too.
 */
export interface SignInDeps {
  store: Store;
  config: Config;
  /** How identity providers are reached; unset (the operator CLI): built from `config`. */
  outbound?: OutboundFetch | undefined;
  /** The time sign-ins are recorded at (`users.last_sign_in_time`); unset (the operator CLI): the system clock. */
  clock?: Clock | undefined;
}

/** How a principal tried to sign in; recorded in the audit payload. */
export type SignInVia = "oidc" | "oidc-token" | "oidc-refresh" | "link" | "session";

export interface SignInUser {
  account_id: string;
  id: string;
  uid: string;
  email: string;
  role: string;
  service_account: number;
}

/** The principal a signed-in human acts as: no API key is involved. */
export function humanPrincipal(user: SignInUser): Principal {
  return {
    accountId: user.account_id,
    userId: user.id,
    uid: user.uid,
    email: user.email,
    role: user.role as Principal["role"],
    serviceAccount: false,
    apiKeyId: "",
  };
}

/**
 * Notes that `user` signed in (browser session or firectl, first sign-in or renewal), in `db` with
 * the sign-in's change: a human's sign-in counts as use for `unused_days` (store/users.ts).
 */
export async function recordSignIn(deps: SignInDeps, db: Db, user: SignInUser): Promise<void> {
  await setLastSignIn(db, user.account_id, user.id, (deps.clock ?? systemClock).now());
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
    { accountId: user.account_id, email: user.email, principalUid: user.uid, apiKeyId: "", meta },
    { method, resource: userName(user.account_id, user.id), isAdminAction: false, payload: { via, ...payload } },
    error,
  );
  if (error && method === "SignIn")
    await enqueueSignInRefused(db, user.account_id, { principal: userName(user.account_id, user.id), email: user.email, via, ...payload }, error, meta);
}

/**
 * Writes the `sign_in.refused` webhook event of a refused sign-in: `data` (who, how) with the
 * refusal's code and sentence and the client's address.
 */
export async function enqueueSignInRefused(db: Db, accountId: string, data: Record<string, unknown>, error: ApiError, meta: RequestMeta): Promise<void> {
  await enqueueWebhookEvent(db, accountId, "sign_in.refused", { ...data, code: error.status, reason: error.message, clientIp: meta.clientIp });
}

/**
 * A sign-in refusal that the sign-in path records itself, as one `SignIn` entry naming the person
 * or service account the credential belonged to (docs/sign-in.md): the HTTP edge counts it
 * against the caller's address but writes no second entry for it.
 */
export class SignInRefusal extends ApiError {
  constructor(error: ApiError) {
    super(error.status, error.message, error.headers);
    this.name = "SignInRefusal";
  }
}

/**
 * Service accounts never sign in (docs/sign-in.md): every path ends here with the same sentence and an
 * audit entry naming the service account. Returns the error for the caller to throw.
 */
export async function refuseServiceAccount(deps: SignInDeps, user: SignInUser, via: SignInVia, meta: RequestMeta): Promise<SignInRefusal> {
  const error = new SignInRefusal(serviceAccountCannotSignIn());
  await auditSignIn(deps.store.db, user, via, meta, {}, error);
  return error;
}
