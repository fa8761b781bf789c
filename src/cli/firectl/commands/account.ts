import type { Account } from "../../../http/resources/account.ts";
import { runs } from "../context.ts";
import type { Noun, Verb } from "../grammar.ts";
import { accountRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";

/** `firectl account get`: the account itself. */
export const accountNoun: Noun = { name: "account", aliases: ["accounts"], description: "the account" };

function accountFields(a: Account): string {
  return renderFields([
    ["Name", a.name],
    ["Display Name", a.displayName ?? ""],
    ["Email", a.email ?? ""],
    ["Account Type", a.accountType ?? ""],
    ["State", a.state ?? ""],
    ["Suspend State", a.suspendState ?? ""],
    ["Create Time", localTime(a.createTime)],
    ["Update Time", localTime(a.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Account>> = [
  ["ACCOUNT", (a) => idOf(a.name)],
  ["DISPLAY NAME", (a) => a.displayName ?? ""],
  ["EMAIL", (a) => a.email ?? ""],
  ["STATE", (a) => a.state ?? ""],
  ["CREATED", (a) => localTime(a.createTime)],
];

/** `firectl account list`: the accounts the credential can see, which is its own account. */
const listAccounts: Verb = {
  noun: "account",
  verb: "list",
  summary: "list the accounts the credential can see (its own account)",
  examples: ["firectl account list", "firectl account list -o json"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=\"READY\"'"), async (ctx, _args, o) => {
      await list<Account>(ctx, { method: "GET", path: paths.accounts() }, "accounts", o, (items) => renderTable(COLUMNS, items));
    }),
};

const get: Verb = {
  noun: "account",
  verb: "get",
  summary: "show the account (default: the configured one, or the API key's)",
  examples: ["firectl account get", "firectl account get my-account -o json"],
  define: (command) =>
    runs(command.argument("[account]", "account id or name"), async (ctx, [value]) => {
      const named = value === undefined ? undefined : accountRef(value).id;
      const accountId = await ctx.accountId(named === undefined ? undefined : { accountId: named, id: named });
      await ctx.call<Account>({ method: "GET", path: paths.account(accountId) }, (a) => ctx.show(a, accountFields));
    }),
};

export const accountVerbs: Verb[] = [listAccounts, get];
