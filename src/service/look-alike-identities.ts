/**
 * @module Stored emails that today's email rule refuses: look-alike identities (an invisible or
 * format character, or a local part or domain label mixing scripts, Unicode UTS #39) created
 * before the rule. They are kept, so their holders can still sign in and be managed; the server
 * names each at start-up so an admin can review it.
 */
import { FIELD_RULES, refusal } from "../domain/field-rules.ts";
import { allUserEmails } from "../store/users.ts";
import type { Db } from "../store/store.ts";
import { userName } from "../domain/resource-names.ts";

/** A stored user whose email would be refused today. */
export interface LookAlikeIdentity {
  /** `accounts/{a}/users/{u}`. */
  name: string;
  /** Why: the email rule's refusal, the email quoted with non-ASCII escaped (`invalid email "\u0430dmin@…": …`). */
  reason: string;
}

/** Every stored user email the email rule refuses, in account and user id order. */
export async function storedLookAlikeIdentities(db: Db): Promise<LookAlikeIdentity[]> {
  const found: LookAlikeIdentity[] = [];
  for await (const row of allUserEmails(db)) {
    const reason = refusal(FIELD_RULES.email, "email", row.email);
    if (reason !== undefined) found.push({ name: userName(row.account_id, row.id), reason });
  }
  return found;
}
