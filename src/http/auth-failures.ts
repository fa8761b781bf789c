import type { FastifyRequest } from "fastify";
import { resourceExhausted, type ApiError } from "../domain/errors.ts";
import { getAccount } from "../store/accounts.ts";
import { auditUnauthenticated } from "../service/audit.ts";
import type { Deps } from "../service/context.ts";
import { SignInRefusal } from "../service/sign-in.ts";
import { KeyRefusal } from "../service/authenticate.ts";
import { auditedResource, requestMeta } from "./request-meta.ts";
import { identityProviderName } from "../domain/resource-names.ts";
import { throttledAddress } from "../domain/network-address.ts";

/**
 * @module What a failed authentication costs its address, on every path that checks a credential
 * (API routes, /verifyApiKey, inference, sessions, ID tokens, one-time links, firectl's code and
 * refresh). Only failures are counted, slowed and refused: the credential is checked first, and a
 * good one is served however many failures its address has (HEARTH_AUTH_FAILURES_SLOW, _BLOCK and
 * HEARTH_AUTH_FAILURE_WINDOW_MS). An IPv6 client is counted by its /64 (`throttledAddress`).
 */

const tooMany = (retryAfter: number): ApiError =>
  resourceExhausted(`too many failed authentication attempts from this address; retry in ${retryAfter} seconds`, { "retry-after": String(retryAfter) });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a refused attempt was: the operation and, when known, the account and resource it named. */
export interface FailedAttempt {
  operationId: string;
  /** The account the request named, if any; the refusal is audited there when it exists. */
  accountId?: string | undefined;
  /** The audited resource; by default the request's path without its API prefix (`auditedResource`). */
  resource?: string;
}

/**
 * Records `error`, a refused authentication from the request's address, and returns what to answer:
 * the error itself (held back by up to 2 s once the address is past the slow threshold), or, once
 * the address is past the block threshold, RESOURCE_EXHAUSTED (429) with `Retry-After` in seconds
 * (that attempt is not counted again). The first refusals on an existing account per address and
 * window are audited one by one, the rest in one summary entry; the account is the one a refused
 * real key belongs to (`KeyRefusal`: expired or disabled, on any path), else the one the path names. A `SignInRefusal` (a service account's
 * sign-in, a federation policy refusal) is counted but not written: its sign-in path wrote its one entry, naming the principal.
 */
export async function failedAuthentication(deps: Deps, request: FastifyRequest, attempt: FailedAttempt, error: ApiError): Promise<ApiError> {
  // A real key that may not act (expired, disabled) is audited in its own account, with its owner and id.
  const key = error instanceof KeyRefusal ? error : undefined;
  const accountId = key?.accountId ?? attempt.accountId;
  const onAccount = accountId !== undefined && (await getAccount(deps.store.db, accountId)) ? accountId : undefined;
  // Checked and counted in one synchronous step, so concurrent failures cannot slip past the limit.
  const address = throttledAddress(request.ip);
  const retryAfter = deps.authThrottle.blockedFor(address);
  if (retryAfter > 0) return tooMany(retryAfter);
  const { audit, delayMs } = deps.authThrottle.fail(address, onAccount);
  if (audit && onAccount && !(error instanceof SignInRefusal)) {
    const resource = attempt.resource ?? auditedResource(request);
    await auditUnauthenticated(deps, onAccount, requestMeta(request), { method: attempt.operationId, resource, isAdminAction: false }, error, key);
  }
  if (delayMs > 0) await sleep(delayMs);
  return error;
}

/**
 * Admits one call to an identity provider on behalf of an unauthenticated request (a refresh
 * token to redeem): counted per address and provider BEFORE the call, since whether it fails is
 * only known after the provider was asked with Hearth's client credentials. Past the block
 * threshold in a window the call is not made: RESOURCE_EXHAUSTED (429) with `Retry-After`.
 */
export async function admitProviderCall(deps: Deps, request: FastifyRequest, accountId: string, identityProviderId: string): Promise<void> {
  const { retryAfter, delayMs } = deps.authThrottle.attempt(`${throttledAddress(request.ip)} ${identityProviderName(accountId, identityProviderId)}`);
  if (retryAfter > 0) throw tooMany(retryAfter);
  if (delayMs > 0) await sleep(delayMs);
}
