/**
 * @module The Account resource as the API returns it.
 */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** The caller's account (`accounts/{accountId}`). */
export const account = z
  .object({
    name: z.string().meta({ examples: ["accounts/my-account"] }),
    displayName: z.string(),
    /** The first admin's email. */
    email: z.string(),
    state: z.string().meta({ examples: ["READY"] }),
    createTime: timestamp,
    updateTime: timestamp,
  })
  .meta({ id: "Account" });
export type Account = z.output<typeof account>;
