import type { Role } from "./roles.ts";

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
  role: Role;
  serviceAccount: boolean;
  /** Empty when the principal did not authenticate with an API key. */
  apiKeyId: string;
}
