import { Option } from "commander";
import type { User } from "../../../http/resources/user.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { unusedFilter, withUnusedFlag } from "../unused.ts";
import { paths, userRef } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, yesNo, type Column } from "../output.ts";
import { parseUserRole } from "../parsers.ts";
import { userName } from "../../../domain/resource-names.ts";

/** `firectl user …`: humans and service accounts (`/v1/accounts/{a}/users`). */
export const userNoun: Noun = { name: "user", aliases: ["users"], description: "users and service accounts of the account" };

const ROLE_HELP = "role: inference-user, contributor, user, admin, or custom (with --permission-preset)";
const PRESET_HELP = "a permission preset of the account, by id or full name (role custom, set automatically)";

function userFields(user: User): string {
  return renderFields([
    ["Name", user.name],
    ["Uid", user.uid ?? ""],
    ["Display Name", user.displayName ?? ""],
    ["Email", user.email ?? ""],
    ["Role", user.role ?? ""],
    ["Permission Preset", user.permissionPreset ?? ""],
    ["Service Account", yesNo(user.serviceAccount)],
    ["State", user.state ?? ""],
    ["Create Time", localTime(user.createTime)],
    ["Update Time", localTime(user.updateTime)],
  ]);
}

const USER_COLUMNS: ReadonlyArray<Column<User>> = [
  ["ID", (u) => idOf(u.name)],
  ["DISPLAY NAME", (u) => u.displayName ?? ""],
  ["EMAIL", (u) => u.email ?? ""],
  ["ROLE", (u) => u.role ?? ""],
  ["SERVICE ACCOUNT", (u) => yesNo(u.serviceAccount)],
  ["STATE", (u) => u.state ?? ""],
  ["CREATED", (u) => localTime(u.createTime)],
];

interface CreateOptions {
  userId?: string;
  serviceAccount?: boolean;
  email?: string;
  role?: string;
  permissionPreset?: string;
  displayName?: string;
}

const create: Verb = {
  noun: "user",
  verb: "create",
  summary: "create a service account (--service-account) or a human user (--email) (admin)",
  examples: [
    'firectl user create --user-id "my-service-account" --service-account',
    'firectl user create --user-id "my-service-account" --service-account --role=contributor',
    "firectl user create --email alice@example.com --role user --display-name Alice",
    'firectl user create --service-account --user-id "my-agent" --permission-preset agent',
  ],
  define: (command) =>
    runs<CreateOptions>(
      command
        .option("--user-id <id>", "id of the new user (required for a service account; derived from the email otherwise)")
        .option("--service-account", "create a service account: it has no sign-in and acts only through API keys")
        .option("--email <email>", "email of a human user (a service account's is generated)")
        .addOption(new Option("--role <role>", `${ROLE_HELP} (default: user)`).argParser(parseUserRole))
        .option("--permission-preset <id>", PRESET_HELP)
        .option("--display-name <name>", "display name (under 64 characters)"),
      async (ctx, _args, o) => {
        const hint = "see 'firectl user create --help'";
        if (o.serviceAccount) {
          if (!o.userId) throw usageError(`--user-id is required with --service-account; ${hint}`);
          if (o.email) throw usageError(`a service account's email is generated, so --email cannot be used with --service-account; ${hint}`);
        } else {
          if (!o.email) throw usageError(`--email is required for a human user (or add --service-account); ${hint}`);
        }
        // Fireworks' firectl defaults --role to user (the REST API keeps role required for a human).
        const role = o.role ?? (o.permissionPreset ? "custom" : o.serviceAccount ? undefined : "user");
        const body = { serviceAccount: o.serviceAccount === true, role, permissionPreset: o.permissionPreset, email: o.email, displayName: o.displayName };
        const request = { method: "POST", path: paths.users(await ctx.accountId()), query: { userId: o.userId }, body } as const;
        await ctx.call<User>(request, (user) => ctx.show(user, userFields));
      },
    ),
};

const get: Verb = {
  noun: "user",
  verb: "get",
  summary: "show a user or service account",
  examples: ["firectl user get my-service-account", "firectl user get accounts/my-account/users/my-service-account -o json"],
  define: (command) =>
    runs(command.argument("<user>", "user id or name"), async (ctx, [value]) => {
      const ref = userRef(value ?? "");
      await ctx.call<User>({ method: "GET", path: paths.user(await ctx.accountId(ref), ref.id) }, (user) => ctx.show(user, userFields));
    }),
};

const listUsers: Verb = {
  noun: "user",
  verb: "list",
  summary: "list users and service accounts",
  examples: [
    "firectl user list --filter 'service_account=true'",
    "firectl user list --filter 'role=\"admin\"' --order-by 'create_time desc'",
    "firectl user list --unused 90d",
  ],
  define: (command) =>
    runs<ListFlags & { unused?: number }>(
      withUnusedFlag(withListFlags(command, "'service_account=true'"), "users and service accounts"),
      async (ctx, _args, flags) => {
        const request = { method: "GET" as const, path: paths.users(await ctx.accountId()) };
        await list<User>(ctx, request, "users", unusedFilter(flags), (users) => renderTable(USER_COLUMNS, users));
      },
    ),
};

interface UpdateOptions {
  role?: string;
  permissionPreset?: string;
  displayName?: string;
}

const update: Verb = {
  noun: "user",
  verb: "update",
  summary: "change a user's role or display name (admin)",
  examples: ["firectl user update my-service-account --role=inference-user", 'firectl user update alice-example-com --display-name "Alice Smith"'],
  define: (command) =>
    runs<UpdateOptions>(
      command
        .argument("<user>", "user id or name")
        .addOption(new Option("--role <role>", ROLE_HELP).argParser(parseUserRole))
        .option("--permission-preset <id>", PRESET_HELP)
        .option("--display-name <name>", "new display name"),
      async (ctx, [value], o) => {
        if (o.role === undefined && o.permissionPreset === undefined && o.displayName === undefined) {
          throw usageError("nothing to update: pass --role, --permission-preset and/or --display-name; see 'firectl user update --help'");
        }
        const ref = userRef(value ?? "");
        const role = o.role ?? (o.permissionPreset ? "custom" : undefined);
        const body = { role, permissionPreset: o.permissionPreset, displayName: o.displayName };
        const request = { method: "PATCH", path: paths.user(await ctx.accountId(ref), ref.id), body } as const;
        await ctx.call<User>(request, (user) => ctx.show(user, userFields));
      },
    ),
};

const remove: Verb = {
  noun: "user",
  verb: "delete",
  summary: "delete a user or service account and revoke all its API keys (admin)",
  examples: ["firectl user delete my-service-account"],
  define: (command) =>
    runs(command.argument("<user>", "user id or name"), async (ctx, [value]) => {
      const ref = userRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.user(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted user ${userName(accountId, ref.id)}; its API keys are revoked.\n`),
      );
    }),
};

export const userVerbs: Verb[] = [create, get, listUsers, update, remove];
