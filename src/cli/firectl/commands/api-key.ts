import { Option } from "commander";
import type { ApiKey } from "../../../http/resources/api-key.ts";
import { runs, type Context } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { apiKeyRef, paths, userRef, type Ref } from "../names.ts";
import { localTime, renderFields, renderTable, type Column } from "../output.ts";
import { parseTime } from "../parsers.ts";
import { userName } from "../../../domain/resource-names.ts";

/**
 * `firectl api-key …`: keys of the calling principal, or with `--service-account X` of X (an admin
 * creates keys for service accounts and manages other principals' keys).
 */
export const apiKeyNoun: Noun = { name: "api-key", aliases: ["api-keys", "apikey", "apikeys"], description: "API keys of principals" };

const SA_HELP = "act on this service account's keys (id or name) instead of the caller's";

function keyFields(key: ApiKey): string {
  return renderFields([
    ["Key ID", key.keyId],
    ["Name", key.name ?? ""],
    ["Display Name", key.displayName ?? ""],
    ["Owner", key.email ?? ""],
    ["Prefix", key.prefix ?? ""],
    ["Create Time", localTime(key.createTime)],
    ["Expire Time", localTime(key.expireTime, "never")],
    ["Last Used", localTime(key.lastUsed, "never")],
  ]);
}

const KEY_COLUMNS: ReadonlyArray<Column<ApiKey>> = [
  ["KEY ID", (k) => k.keyId],
  ["DISPLAY NAME", (k) => k.displayName ?? ""],
  ["OWNER", (k) => k.email ?? ""],
  ["PREFIX", (k) => k.prefix ?? ""],
  ["CREATED", (k) => localTime(k.createTime)],
  ["EXPIRES", (k) => localTime(k.expireTime, "never")],
  ["LAST USED", (k) => localTime(k.lastUsed, "never")],
];

const ONCE = "Store this key now: it is shown only this once and cannot be shown again.";

/**
 * Whose keys a command acts on: the user a full key name carries, else `--service-account`, else
 * the caller (asked of `GET /verifyApiKey`).
 */
async function owner(ctx: Context, serviceAccount: string | undefined, key?: Ref): Promise<{ accountId: string; userId: string }> {
  const sa = serviceAccount === undefined ? undefined : userRef(serviceAccount);
  if (key?.userId !== undefined && sa !== undefined && (key.userId !== sa.id || (sa.accountId ?? key.accountId) !== key.accountId)) {
    throw usageError(`the key name belongs to user "${key.userId}" but --service-account names "${sa.id}"; give one of them`);
  }
  const accountId = await ctx.accountId(key?.accountId !== undefined ? key : sa);
  const userId = key?.userId ?? sa?.id ?? (await ctx.caller()).userId;
  return { accountId, userId };
}

interface CreateOptions {
  serviceAccount?: string;
  keyName?: string;
  expireTime?: string;
}

const create: Verb = {
  noun: "api-key",
  verb: "create",
  summary: "create an API key for yourself, or for a service account (admin); the secret is printed once",
  examples: ['firectl api-key create --service-account "my-service-account"', 'firectl api-key create --key-name ci --expire-time "2027-01-31 18:00:00"'],
  define: (command) =>
    runs<CreateOptions>(
      command
        .option("--service-account <id>", "create the key for this service account (admin only)")
        .option("--key-name <name>", 'display name of the key (default "default")')
        .addOption(new Option("--expire-time <time>", 'expiry, "YYYY-MM-DD[ HH:MM:SS]" in local time (default: never)').argParser(parseTime)),
      async (ctx, _args, o) => {
        const { accountId, userId } = await owner(ctx, o.serviceAccount);
        const body = { apiKey: { displayName: o.keyName, expireTime: o.expireTime } };
        await ctx.call<ApiKey>({ method: "POST", path: paths.apiKeys(accountId, userId), body }, (key) => {
          if (ctx.json) {
            ctx.show(key, keyFields);
            ctx.note(ONCE);
          } else {
            ctx.out(`${keyFields(key)}\nAPI key: ${key.key ?? ""}\n${ONCE}\n`);
          }
        });
      },
    ),
};

interface KeyOptions {
  serviceAccount?: string;
}

const get: Verb = {
  noun: "api-key",
  verb: "get",
  summary: "show an API key's metadata (never its secret)",
  examples: ["firectl api-key get KEY_ID", 'firectl api-key get KEY_ID --service-account "my-service-account"'],
  define: (command) =>
    runs<KeyOptions>(command.argument("<key>", "key id or name").option("--service-account <id>", SA_HELP), async (ctx, [value], o) => {
      const ref = apiKeyRef(value ?? "");
      const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
      await ctx.call<ApiKey>({ method: "GET", path: paths.apiKey(accountId, userId, ref.id) }, (key) => ctx.show(key, keyFields));
    }),
};

interface ListOptions extends ListFlags {
  serviceAccount?: string;
  allUsers?: boolean;
}

const listKeys: Verb = {
  noun: "api-key",
  verb: "list",
  summary: "list your API keys, a service account's (--service-account) or every key of the account (--all-users, admin)",
  examples: ["firectl api-key list", 'firectl api-key list --service-account "my-service-account"', "firectl api-key list --all-users"],
  define: (command) =>
    runs<ListOptions>(
      withListFlags(
        command.option("--service-account <id>", SA_HELP).option("--all-users", "list the keys of every user and service account (admin)"),
        "'display_name=\"ci\"'",
      ),
      async (ctx, _args, o) => {
        if (o.allUsers && o.serviceAccount !== undefined) throw usageError("--all-users and --service-account cannot be combined; pass one of them");
        const { accountId, userId } = o.allUsers ? { accountId: await ctx.accountId(), userId: "-" } : await owner(ctx, o.serviceAccount);
        await list<ApiKey>(ctx, { method: "GET", path: paths.apiKeys(accountId, userId) }, "apiKeys", o, (keys) => renderTable(KEY_COLUMNS, keys));
      },
    ),
};

const remove: Verb = {
  noun: "api-key",
  verb: "delete",
  summary: "delete (revoke) an API key: yours, or with --service-account another principal's (admin)",
  examples: ["firectl api-key delete KEY_ID", 'firectl api-key delete KEY_ID --service-account "my-service-account"'],
  define: (command) =>
    runs<KeyOptions>(command.argument("<key>", "key id or name").option("--service-account <id>", SA_HELP), async (ctx, [value], o) => {
      const ref = apiKeyRef(value ?? "");
      const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
      const request = { method: "POST", path: paths.deleteApiKey(accountId, userId), body: { keyId: ref.id } } as const;
      await ctx.call(request, (answer) => ctx.show(answer, () => `Deleted API key ${ref.id} of ${userName(accountId, userId)}; it no longer authenticates.\n`));
    }),
};

export const apiKeyVerbs: Verb[] = [create, get, listKeys, remove];
