import { Option } from "commander";
import type { ApiKey } from "../../../http/resources/api-key.ts";
import { runs } from "../context.ts";
import type { Verb } from "../grammar.ts";
import { apiKeyRef, paths } from "../names.ts";
import { parseDuration, parseTime } from "../parsers.ts";
import { keyFields, ONCE, owner } from "./api-key.ts";

/**
 * `firectl api-key disable|enable|rotate`: an API key's lifecycle after creation, on the caller's
 * keys or, with `--service-account`, a service account's (admin).
 */

const SA_HELP = "act on this service account's key (id or name) instead of the caller's";
const REASONS = ["EXPOSED", "COMPROMISED", "UNUSED", "OTHER"];

interface DisableOptions {
  serviceAccount?: string;
  reason: string;
}

const disable: Verb = {
  noun: "api-key",
  verb: "disable",
  summary: "disable an API key with a reason: refused everywhere from its next request until enabled",
  examples: ["firectl api-key disable KEY_ID --reason EXPOSED", 'firectl api-key disable KEY_ID --service-account "my-service-account" --reason UNUSED'],
  define: (command) =>
    runs<DisableOptions>(
      command
        .argument("<key>", "key id or name")
        .option("--service-account <id>", SA_HELP)
        .addOption(new Option("--reason <reason>", "why the key is disabled").choices(REASONS).default("OTHER")),
      async (ctx, [value], o) => {
        const ref = apiKeyRef(value ?? "");
        const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
        const request = { method: "POST", path: `${paths.apiKey(accountId, userId, ref.id)}:disable`, body: { disableReason: o.reason } } as const;
        await ctx.call<ApiKey>(request, (key) => ctx.show(key, keyFields));
      },
    ),
};

interface KeyOptions {
  serviceAccount?: string;
}

const enable: Verb = {
  noun: "api-key",
  verb: "enable",
  summary: "enable a disabled API key",
  examples: ["firectl api-key enable KEY_ID"],
  define: (command) =>
    runs<KeyOptions>(command.argument("<key>", "key id or name").option("--service-account <id>", SA_HELP), async (ctx, [value], o) => {
      const ref = apiKeyRef(value ?? "");
      const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
      await ctx.call<ApiKey>({ method: "POST", path: `${paths.apiKey(accountId, userId, ref.id)}:enable`, body: {} }, (key) => ctx.show(key, keyFields));
    }),
};

interface RotateOptions {
  serviceAccount?: string;
  gracePeriod?: string;
  expireTime?: string;
}

const rotate: Verb = {
  noun: "api-key",
  verb: "rotate",
  summary: "replace an API key by a new one with the same owner, name and restrictions; the old one keeps working for the grace period",
  examples: ["firectl api-key rotate KEY_ID --grace-period 24h", "firectl api-key rotate KEY_ID --grace-period 0s"],
  define: (command) =>
    runs<RotateOptions>(
      command
        .argument("<key>", "key id or name")
        .option("--service-account <id>", SA_HELP)
        .addOption(new Option("--grace-period <duration>", "how long the old key keeps working, e.g. 0s, 1h, 7d (default 24h)").argParser(parseDuration))
        .addOption(
          new Option("--expire-time <time>", "the new key's expiry, \"YYYY-MM-DD[ HH:MM:SS]\" in local time (default: the old key's lifetime)").argParser(
            parseTime,
          ),
        ),
      async (ctx, [value], o) => {
        const ref = apiKeyRef(value ?? "");
        const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
        const body = { gracePeriod: o.gracePeriod, expireTime: o.expireTime };
        await ctx.call<ApiKey>({ method: "POST", path: `${paths.apiKey(accountId, userId, ref.id)}:rotate`, body }, (key) => {
          const old = `The old key ${ref.id} keeps working for ${o.gracePeriod ?? "86400s"}.`;
          if (ctx.structured) {
            ctx.show(key, keyFields);
            ctx.note(`${old} ${ONCE}`);
          } else {
            ctx.out(`${keyFields(key)}\nAPI key: ${key.key ?? ""}\n${old}\n${ONCE}\n`);
          }
        });
      },
    ),
};

export const apiKeyLifecycleVerbs: Verb[] = [disable, enable, rotate];
