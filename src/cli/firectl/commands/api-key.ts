import { Option, type Command } from "commander";
import type { ApiKey } from "../../../http/resources/api-key.ts";
import { runs, type Context } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { unusedFilter, withUnusedFlag } from "../unused.ts";
import { apiKeyRef, paths, userRef, type Ref } from "../names.ts";
import { localTime, renderFields, renderTable, type Column } from "../output.ts";
import { parseCount, parseList, parseTime, parseUsd } from "../parsers.ts";
import { userName } from "../../../domain/resource-names.ts";

/**
 * `firectl api-key …`: keys of the calling principal, or with `--service-account X` of X (an admin
 * creates keys for service accounts and manages other principals' keys).
 */
export const apiKeyNoun: Noun = { name: "api-key", aliases: ["api-keys", "apikey", "apikeys"], description: "API keys of principals" };

const SA_HELP = "act on this service account's keys (id or name) instead of the caller's";

/** An API key's fields as `get` shows them. */
export function keyFields(key: ApiKey): string {
  return renderFields([
    ["Key ID", key.keyId],
    ["Name", key.name ?? ""],
    ["Display Name", key.displayName ?? ""],
    ["Owner", key.email ?? ""],
    ["Prefix", key.prefix ?? ""],
    ["Create Time", localTime(key.createTime)],
    ["Expire Time", localTime(key.expireTime, "never")],
    ["Last Used", localTime(key.lastUsed, "never")],
    ["State", key.disableReason ? `${key.state} (${key.disableReason})` : key.state],
    ...(key.lastUsedIp ? [["Last Used From", [key.lastUsedIp, key.lastUsedUserAgent].filter(Boolean).join(" ")] as [string, string]] : []),
    ...restrictionRows(key),
  ]);
}

/** The key's restrictions, one row each, only those it has. */
function restrictionRows(key: ApiKey): Array<[string, string]> {
  const rows: Array<[string, string | undefined]> = [
    ["Scopes", key.scopes?.join(", ")],
    ["Allowed Models", key.allowedModels?.join(", ")],
    ["Allowed CIDRs", key.allowedCidrs?.join(", ")],
    ["RPM", key.rpm?.toString()],
    ["TPM", key.tpm?.toString()],
    ["Monthly Spend USD", key.monthlySpendUsd?.toString()],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined);
}

/** The restriction flags of `create` and `update`; on update an empty list or 0 lifts a restriction. */
interface RestrictionFlags {
  scopes?: string[];
  allowedModels?: string[];
  allowedCidrs?: string[];
  rpm?: number;
  tpm?: number;
  monthlySpendUsd?: number;
}

const withRestrictionFlags = (command: Command): Command =>
  command
    .addOption(
      new Option("--scopes <actions>", "comma-separated action names the key may take, within its owner's role, e.g. models.list,inference.run").argParser(
        parseList,
      ),
    )
    .addOption(
      new Option("--allowed-models <names>", "comma-separated models or deployments the key may call, e.g. 'accounts/fireworks/models/*'").argParser(parseList),
    )
    .addOption(
      new Option("--allowed-cidrs <networks>", "comma-separated IPv4/IPv6 networks the key may be used from, e.g. 203.0.113.0/24").argParser(parseList),
    )
    .addOption(new Option("--rpm <n>", "requests per minute of this key (0: only the account's quota)").argParser(parseCount))
    .addOption(new Option("--tpm <n>", "tokens per minute of this key (0: only the account's quota)").argParser(parseCount))
    .addOption(new Option("--monthly-spend-usd <usd>", "US dollars per calendar month for this key (0: only the account's quota)").argParser(parseUsd));

/** The restriction fields of a request body, those whose flag was given. */
const restrictionBody = (o: RestrictionFlags): RestrictionFlags => ({
  scopes: o.scopes,
  allowedModels: o.allowedModels,
  allowedCidrs: o.allowedCidrs,
  rpm: o.rpm,
  tpm: o.tpm,
  monthlySpendUsd: o.monthlySpendUsd,
});

const KEY_COLUMNS: ReadonlyArray<Column<ApiKey>> = [
  ["KEY ID", (k) => k.keyId],
  ["DISPLAY NAME", (k) => k.displayName ?? ""],
  ["OWNER", (k) => k.email ?? ""],
  ["PREFIX", (k) => k.prefix ?? ""],
  ["CREATED", (k) => localTime(k.createTime)],
  ["EXPIRES", (k) => localTime(k.expireTime, "never")],
  ["LAST USED", (k) => localTime(k.lastUsed, "never")],
  ["STATE", (k) => (k.disableReason ? `${k.state} (${k.disableReason})` : k.state)],
];

export const ONCE = "Store this key now: it is shown only this once and cannot be shown again.";

/**
 * Whose keys a command acts on: the user a full key name carries, else `--service-account`, else,
 * for a command on one key given by its id, whoever holds it (`keyHolder`), else the caller (asked
 * of `GET /verifyApiKey`).
 */
export async function owner(ctx: Context, serviceAccount: string | undefined, key?: Ref): Promise<{ accountId: string; userId: string }> {
  const sa = serviceAccount === undefined ? undefined : userRef(serviceAccount);
  if (key?.userId !== undefined && sa !== undefined && (key.userId !== sa.id || (sa.accountId ?? key.accountId) !== key.accountId)) {
    throw usageError(`the key name belongs to user "${key.userId}" but --service-account names "${sa.id}"; give one of them`);
  }
  const accountId = await ctx.accountId(key?.accountId !== undefined ? key : sa);
  const userId = key?.userId ?? sa?.id ?? (key ? await keyHolder(ctx, accountId, key.id) : (await ctx.caller()).userId);
  return { accountId, userId };
}

/**
 * The principal holding key `keyId`, as `GET …/users/-/apiKeys/{keyId}` finds it (AIP-159), so that
 * `firectl api-key delete KEY_ID`, as Fireworks documents it, works on a service account's key as
 * on the caller's own. The caller when the lookup is refused (a key scoped without `apiKeys.get`
 * may still hold the action it is used for) and under `--dry-run`.
 * @throws CliError (exit 1) when no principal holds the key: `API key "…" not found (NOT_FOUND)`.
 */
async function keyHolder(ctx: Context, accountId: string, keyId: string): Promise<string> {
  if (ctx.dryRun) return (await ctx.caller()).userId;
  try {
    const key = await ctx.send<ApiKey>({ method: "GET", path: paths.apiKey(accountId, "-", keyId) });
    return apiKeyRef(key.name ?? "").userId ?? (await ctx.caller()).userId;
  } catch (error) {
    if (error instanceof CliError && error.status === "PERMISSION_DENIED") return (await ctx.caller()).userId;
    throw error;
  }
}

interface CreateOptions extends RestrictionFlags {
  serviceAccount?: string;
  keyName?: string;
  expireTime?: string;
}

const create: Verb = {
  noun: "api-key",
  verb: "create",
  summary: "create an API key for yourself, or for a service account (admin); the secret is printed once",
  examples: [
    'firectl api-key create --service-account "my-service-account"',
    'firectl api-key create --key-name ci --expire-time "2027-01-31 18:00:00"',
    "firectl api-key create --key-name agent --scopes models.list,inference.run --allowed-models 'accounts/fireworks/models/*' --allowed-cidrs 203.0.113.0/24 --rpm 60",
  ],
  define: (command) =>
    runs<CreateOptions>(
      withRestrictionFlags(
        command
          .option("--service-account <id>", "create the key for this service account (admin only)")
          .option("--key-name <name>", 'display name of the key (default "default")')
          .addOption(new Option("--expire-time <time>", 'expiry, "YYYY-MM-DD[ HH:MM:SS]" in local time (default: never)').argParser(parseTime)),
      ),
      async (ctx, _args, o) => {
        const { accountId, userId } = await owner(ctx, o.serviceAccount);
        const body = { apiKey: { displayName: o.keyName, expireTime: o.expireTime, ...restrictionBody(o) } };
        await ctx.call<ApiKey>({ method: "POST", path: paths.apiKeys(accountId, userId), body }, (key) => {
          if (ctx.structured) {
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
  unused?: number;
}

const listKeys: Verb = {
  noun: "api-key",
  verb: "list",
  summary: "list your API keys, a service account's (--service-account) or every key of the account (--all-users, admin)",
  examples: [
    "firectl api-key list",
    'firectl api-key list --service-account "my-service-account"',
    "firectl api-key list --all-users",
    "firectl api-key list --all-users --unused 90d",
  ],
  define: (command) =>
    runs<ListOptions>(
      withUnusedFlag(
        withListFlags(
          command.option("--service-account <id>", SA_HELP).option("--all-users", "list the keys of every user and service account (admin)"),
          "'display_name=\"ci\"'",
        ),
        "keys",
      ),
      async (ctx, _args, o) => {
        if (o.allUsers && o.serviceAccount !== undefined) throw usageError("--all-users and --service-account cannot be combined; pass one of them");
        const { accountId, userId } = o.allUsers ? { accountId: await ctx.accountId(), userId: "-" } : await owner(ctx, o.serviceAccount);
        const request = { method: "GET" as const, path: paths.apiKeys(accountId, userId) };
        await list<ApiKey>(ctx, request, "apiKeys", unusedFilter(o), (keys) => renderTable(KEY_COLUMNS, keys));
      },
    ),
};

interface UpdateOptions extends RestrictionFlags {
  serviceAccount?: string;
  keyName?: string;
}

const update: Verb = {
  noun: "api-key",
  verb: "update",
  summary: "change an API key's display name or restrictions (an empty list or 0 lifts one); effective on the key's next request",
  examples: ["firectl api-key update KEY_ID --scopes models.list,inference.run --rpm 30", "firectl api-key update KEY_ID --allowed-cidrs ''"],
  define: (command) =>
    runs<UpdateOptions>(
      withRestrictionFlags(
        command.argument("<key>", "key id or name").option("--service-account <id>", SA_HELP).option("--key-name <name>", "new display name of the key"),
      ),
      async (ctx, [value], o) => {
        const patch = { displayName: o.keyName, ...restrictionBody(o) };
        if (Object.values(patch).every((v) => v === undefined))
          throw usageError("nothing to update: pass at least one flag; see 'firectl api-key update --help'");
        const ref = apiKeyRef(value ?? "");
        const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
        await ctx.call<ApiKey>({ method: "PATCH", path: paths.apiKey(accountId, userId, ref.id), body: patch }, (key) => ctx.show(key, keyFields));
      },
    ),
};

const remove: Verb = {
  noun: "api-key",
  verb: "delete",
  summary: "delete (revoke) an API key, yours or (admin) any principal's: found by its id, or named with --service-account",
  examples: ["firectl api-key delete KEY_ID", 'firectl api-key delete KEY_ID --service-account "my-service-account"'],
  define: (command) =>
    runs<KeyOptions>(command.argument("<key>", "key id or name").option("--service-account <id>", SA_HELP), async (ctx, [value], o) => {
      const ref = apiKeyRef(value ?? "");
      const { accountId, userId } = await owner(ctx, o.serviceAccount, ref);
      const request = { method: "POST", path: paths.deleteApiKey(accountId, userId), body: { keyId: ref.id } } as const;
      await ctx.call(request, (answer) => ctx.show(answer, () => `Deleted API key ${ref.id} of ${userName(accountId, userId)}; it no longer authenticates.\n`));
    }),
};

export const apiKeyVerbs: Verb[] = [create, get, listKeys, update, remove];
