/**
 * @module The Account resource as the API returns it.
 */
import { z } from "zod";
import { listPage, status, timestamp } from "./common.ts";

/**
 * The caller's account (`accounts/{accountId}`), with Fireworks' Account fields that apply (the
 * Python SDK's `types/account.py` enums). Hearth has no account tiers and never suspends an
 * account, so it always reports `accountType` ACCOUNT_TYPE_UNSPECIFIED, `suspendState`
 * UNSUSPENDED and `status` OK.
 */
export const account = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account"] }),
    displayName: z.string(),
    /** The first admin's email. */
    email: z.string(),
    accountType: z.enum(["ACCOUNT_TYPE_UNSPECIFIED", "ENTERPRISE"]),
    state: z.string().meta({ examples: ["READY"] }),
    status,
    suspendState: z.enum(["UNSUSPENDED", "FAILED_PAYMENTS", "CREDIT_DEPLETED", "MONTHLY_SPEND_LIMIT_EXCEEDED", "BLOCKED_BY_ABUSE_RULE"]),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "Account" });
export type Account = z.output<typeof account>;

/** ListAccounts: the caller's own account (a credential belongs to one account), as a page (AIP-158). */
export const accountList = listPage("accounts", account).meta({ id: "ListAccountsResponse" });
