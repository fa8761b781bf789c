import { InvalidArgumentError, Option } from "commander";
import type { KeyPolicy } from "../../../http/resources/key-policy.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { paths } from "../names.ts";
import { localTime, renderFields } from "../output.ts";
import { parseDuration } from "../parsers.ts";

/** `firectl key-policy …`: the account's rules for API key lifetimes (admin-set, readable by all). */
export const keyPolicyNoun: Noun = { name: "key-policy", aliases: ["keypolicy"], description: "the account's API key policy (lifetimes, required expiry)" };

function policyFields(p: KeyPolicy): string {
  return renderFields([
    ["Name", p.name],
    ["Max Key Lifetime", p.maxKeyLifetime ?? "none"],
    ["Default Key Lifetime", p.defaultKeyLifetime ?? "none"],
    ["Require Expiry For Human Keys", String(p.requireExpiryForHumanKeys)],
    ["Update Time", localTime(p.updateTime, "never")],
  ]);
}

const get: Verb = {
  noun: "key-policy",
  verb: "get",
  summary: "show the account's key policy",
  examples: ["firectl key-policy get"],
  define: (command) =>
    runs(command, async (ctx) => {
      await ctx.call<KeyPolicy>({ method: "GET", path: paths.keyPolicy(await ctx.accountId()) }, (p) => ctx.show(p, policyFields));
    }),
};

/** A lifetime flag: a duration, or `none` to remove it (named in the update mask without a value). */
const NONE = "none";
const lifetime = (value: string): string => (value.trim() === NONE ? NONE : parseDuration(value));

const bool = (value: string): boolean => {
  if (value === "true" || value === "false") return value === "true";
  throw new InvalidArgumentError("expected true or false");
};

interface UpdateOptions {
  maxKeyLifetime?: string;
  defaultKeyLifetime?: string;
  requireExpiryForHumanKeys?: boolean;
}

const update: Verb = {
  noun: "key-policy",
  verb: "update",
  summary: "change the account's key policy (admin); keys created or rotated from then on must keep to it",
  examples: [
    "firectl key-policy update --max-key-lifetime 90d --default-key-lifetime 30d --require-expiry-for-human-keys true",
    "firectl key-policy update --max-key-lifetime none",
  ],
  define: (command) =>
    runs<UpdateOptions>(
      command
        .addOption(new Option("--max-key-lifetime <duration>", "longest lifetime of a new key, e.g. 90d, or none").argParser(lifetime))
        .addOption(new Option("--default-key-lifetime <duration>", "lifetime of a key created without an expiry, e.g. 30d, or none").argParser(lifetime))
        .addOption(new Option("--require-expiry-for-human-keys <bool>", "whether a human user's key must expire: true or false").argParser(bool)),
      async (ctx, _args, o) => {
        const fields = { maxKeyLifetime: o.maxKeyLifetime, defaultKeyLifetime: o.defaultKeyLifetime, requireExpiryForHumanKeys: o.requireExpiryForHumanKeys };
        const named = Object.entries(fields).filter(([, v]) => v !== undefined);
        if (named.length === 0) throw usageError("nothing to update: pass at least one flag; see 'firectl key-policy update --help'");
        // A lifetime set to none is named in the mask without a value: it is removed (AIP-134).
        const body = Object.fromEntries(named.filter(([, v]) => v !== NONE));
        const query = { updateMask: named.map(([k]) => k).join(",") };
        await ctx.call<KeyPolicy>({ method: "PATCH", path: paths.keyPolicy(await ctx.accountId()), query, body }, (p) => ctx.show(p, policyFields));
      },
    ),
};

export const keyPolicyVerbs: Verb[] = [get, update];
