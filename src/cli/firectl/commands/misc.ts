import { readFileSync } from "node:fs";
import { Argument, type Command } from "commander";
import { maskKey } from "../client.ts";
import { authFilePath, checkApiBase, SIGN_IN_KEYS, writeAuthFile, type AuthFile, type GlobalFlags } from "../config.ts";
import { bashCompletion, zshCompletion } from "../completion.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import { renderFields, yesNo } from "../output.ts";
import { printOut } from "../terminal.ts";
import { VERSION } from "../version.ts";
import { idTokenExpiry } from "../sign-in.ts";
import { userName } from "../../../domain/resource-names.ts";

/** Commands outside the noun-verb grammar: whoami, set-api-key, version, completion. */
const root = (command: Command): Command => (command.parent ? root(command.parent) : command);

function defineWhoami(program: Command): void {
  runs(
    program
      .command("whoami")
      .description("show the principal, role and account of the credential in use (API key or 'firectl signin')")
      .addHelpText("after", "\nExamples:\n  firectl whoami\n  firectl whoami -o json\n"),
    async (ctx) => {
      const caller = await ctx.caller();
      if (ctx.dryRun) return;
      const s = ctx.settings;
      const credential: [string, string] = s.apiKey
        ? ["API Key", `${maskKey(s.apiKey.value)} (from ${s.apiKey.source})`]
        : ["Credential", `ID token from 'firectl signin' in ${s.file}, expires ${idTokenExpiry(await ctx.bearer())}`];
      ctx.show(caller, (c) =>
        renderFields([
          ["Account", c.accountId],
          ["User", userName(c.accountId, c.userId)],
          ["Email", c.email],
          ["Role", c.role],
          ["Service Account", yesNo(c.serviceAccount)],
          ["API Key ID", c.keyId],
          credential,
          ["API Base", `${s.apiBase.value} (from ${s.apiBase.source})`],
        ]),
      );
      if (s.accountId && s.accountId.value !== caller.accountId) {
        ctx.note(`note: the configured account "${s.accountId.value}" (from ${s.accountId.source}) is not this key's account "${caller.accountId}"`);
      }
    },
  );
}

/** Reads the key from stdin when it is given as `-`, so it stays out of the shell history. */
function readKey(value: string): string {
  const key = (value === "-" ? readFileSync(0, "utf8") : value).trim();
  if (key === "" || /\s/.test(key)) throw usageError("the API key must be one word without spaces; pass it as the argument, or '-' to read it from stdin");
  return key;
}

function defineSetApiKey(program: Command): void {
  program
    .command("set-api-key")
    .description("store an API key (and optionally --account-id / --api-base) in the profile file, mode 0600")
    .argument("<key>", "the API key, or - to read it from stdin")
    .addHelpText(
      "after",
      "\nWrites ~/.fireworks/auth.ini, or ~/.fireworks/profiles/<p>/auth.ini with -p <p>.\n\nExamples:\n  firectl set-api-key hk_...\n  firectl set-api-key - -p staging --account-id my-account --api-base https://hearth.example.com < key.txt\n",
    )
    .action((value: string, _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      const values: AuthFile = { api_key: readKey(value) };
      if (flags.accountId) values.account_id = flags.accountId;
      if (flags.apiBase) values.api_base = checkApiBase(flags.apiBase, "flag");
      const path = authFilePath(flags.profile ?? (process.env.FIREWORKS_PROFILE || undefined));
      if (flags.dryRun) {
        printOut(`would write ${path} (mode 0600): ${Object.keys(values).join(", ")}\n`);
        return;
      }
      // One credential per profile: a stored sign-in gives way to the key.
      writeAuthFile(path, values, SIGN_IN_KEYS);
      const stored = Object.keys(values).map((k) => (k === "api_key" ? `api_key (${maskKey(values.api_key)})` : `${k}`));
      printOut(`Saved ${stored.join(", ")} to ${path} (mode 0600).\n`);
    });
}

function defineVersion(program: Command): void {
  program
    .command("version")
    .description("print firectl's version")
    .addHelpText("after", "\nExamples:\n  firectl version\n  firectl version -o json\n")
    .action((_options: unknown, command: Command) => {
      const { output } = command.optsWithGlobals<GlobalFlags>();
      printOut(output === "json" ? `${JSON.stringify({ version: VERSION })}\n` : `firectl ${VERSION}\n`);
    });
}

function defineCompletion(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .addHelpText(
      "after",
      "\nExamples:\n  firectl completion bash > ~/.local/share/bash-completion/completions/firectl\n  source <(firectl completion bash)   # in ~/.bashrc\n  source <(firectl completion zsh)    # in ~/.zshrc\n",
    )
    .action((shell: string, _options: unknown, command: Command) => {
      const program = root(command);
      printOut(shell === "zsh" ? zshCompletion(program) : bashCompletion(program));
    });
}

export function defineMisc(program: Command): void {
  defineWhoami(program);
  defineSetApiKey(program);
  defineVersion(program);
  defineCompletion(program);
}
