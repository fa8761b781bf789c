import type { ApiKeyRestrictions } from "./api-key-restrictions.ts";
import type { PrincipalRole } from "./roles.ts";

/**
 * Who is acting: a user or service account of one account, resolved from an API key, a console
 * session or an identity provider's token.
 */
export interface Principal {
  accountId: string;
  userId: string;
  /** The principal's AIP-148 uid (a UUID, never reused): what ownership of resources compares. */
  uid: string;
  email: string;
  role: PrincipalRole;
  /**
   * Role `custom` only: the id of its permission preset and the action names it holds, read when
   * the principal is resolved (a preset edit invalidates cached principals on every process).
   */
  permissionPreset?: { id: string; actions: ReadonlySet<string> } | undefined;
  serviceAccount: boolean;
  /** Empty when the principal did not authenticate with an API key. */
  apiKeyId: string;
  /**
   * The key whose counters the key's own `rpm`, `tpm` and `monthlySpendUsd` share: the first key of
   * its rotation chain, or the limited key it was made through (see `limitsKeyOf`). Absent: `apiKeyId`.
   */
  limitsKeyId?: string;
  /** The API key's own restrictions, read with the key (and cached with it); absent = unrestricted. */
  restrictions?: ApiKeyRestrictions;
}

/**
 * The id a key's own `rpm`, `tpm` and `monthlySpendUsd` are counted under: the first key of its
 * rotation chain, or the limited key it was made through, else the key itself ("Keys that carry
 * their own policy": rotating a key, or minting keys through it, is not a fresh budget; each key's
 * own limit applies to the shared count). Empty when the principal did not use an API key.
 */
export const limitsKeyOf = (principal: Pick<Principal, "apiKeyId" | "limitsKeyId">): string => principal.limitsKeyId || principal.apiKeyId;
