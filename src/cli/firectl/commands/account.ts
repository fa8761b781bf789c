import type { Account } from "../../../http/resources/account.ts";
import { runs } from "../context.ts";
import type { Noun, Verb } from "../grammar.ts";
import { accountRef, paths } from "../names.ts";
import { localTime, renderFields } from "../output.ts";

/** `firectl account get`: the account itself. */
export const accountNoun: Noun = { name: "account", aliases: ["accounts"], description: "the account" };

function accountFields(a: Account): string {
  return renderFields([
    ["Name", a.name],
    ["Display Name", a.displayName ?? ""],
    ["Email", a.email ?? ""],
    ["State", a.state ?? ""],
    ["Create Time", localTime(a.createTime)],
    ["Update Time", localTime(a.updateTime)],
  ]);
}

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

export const accountVerbs: Verb[] = [get];
