#!/usr/bin/env node
/**
 * @module `firectl`: the command-line client of Hearth's REST API (docs/firectl.md), in Fireworks' firectl grammar.
 * It never touches the store. Exit codes: 0 success, 1 API error or unreachable server, 2 bad usage.
 */
import { Command, CommanderError, Option } from "commander";
import { accountNoun, accountVerbs } from "./commands/account.ts";
import { apiKeyNoun, apiKeyVerbs } from "./commands/api-key.ts";
import { apiKeyLifecycleVerbs } from "./commands/api-key-lifecycle.ts";
import { keyPolicyNoun, keyPolicyVerbs } from "./commands/key-policy.ts";
import { auditLogsNoun, auditLogsVerbs } from "./commands/audit-logs.ts";
import { defineBilling } from "./commands/billing.ts";
import { datasetNoun, datasetVerbs } from "./commands/dataset.ts";
import { deploymentNoun, deploymentVerbs } from "./commands/deployment.ts";
import { identityProviderNoun, identityProviderVerbs } from "./commands/identity-provider.ts";
import { permissionPresetNoun, permissionPresetVerbs } from "./commands/permission-preset.ts";
import { webhookNoun, webhookVerbs } from "./commands/webhook.ts";
import { defineMisc } from "./commands/misc.ts";
import { defineSignInCommands } from "./commands/sign-in.ts";
import { modelNoun, modelVerbs } from "./commands/model.ts";
import { quotaNoun, quotaVerbs } from "./commands/quota.ts";
import { userNoun, userVerbs } from "./commands/user.ts";
import { DEFAULT_API_BASE } from "./config.ts";
import { endQuietlyOnClosedPipe } from "./closed-pipe.ts";
import { CliError, EXIT_API, EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { defineResources } from "./grammar.ts";
import { printErr, printOut } from "./terminal.ts";
import { VERSION } from "./version.ts";

const CONFIGURATION_HELP = `
Configuration, highest precedence first:
  1. flags: --api-key, -a/--account-id, --api-base
  2. environment: FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID, FIREWORKS_API_BASE
  3. ~/.fireworks/auth.ini (api_key, account_id, api_base), or with -p NAME / FIREWORKS_PROFILE
     ~/.fireworks/profiles/NAME/auth.ini; write it with 'firectl set-api-key KEY', or sign in
     as a human with 'firectl signin ACCOUNT_ID' (stores the identity provider's ID token instead)
  4. API base ${DEFAULT_API_BASE}; without an account id, the API key's own account is used

Examples:
  firectl user create --user-id "my-service-account" --service-account
  firectl api-key create --service-account "my-service-account"
  firectl user update my-service-account --role=inference-user
  firectl user list --filter 'service_account=true'
  firectl create user --email alice@example.com --role user
`;

/** `firectl user create` for the command's help hint. */
function commandPath(command: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) parts.unshift(c.name());
  return parts.join(" ");
}

/**
 * Commander's messages as one sentence: `error: option '--role <role>' argument 'x' is invalid.
 * use one of …` becomes `invalid --role 'x': use one of …`, suggestions join the sentence, and a
 * pointer to the command's help ends it.
 */
function usageSentence(raw: string, path: string): string {
  let text = raw
    .replace(/^error:\s*/i, "")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  text = text.replace(/\(Did you mean/, "(did you mean");
  const invalidOption = /^option '([^']*)' argument '(.*)' is invalid\.\s*(.*)$/s.exec(text);
  if (invalidOption) {
    const flag = /--[\w-]+/.exec(invalidOption[1] ?? "")?.[0] ?? invalidOption[1];
    text = `invalid ${flag} '${invalidOption[2]}': ${invalidOption[3]}`;
  }
  const invalidArgument = /^command-argument value '(.*)' is invalid for argument '([^']*)'\.\s*(.*)$/s.exec(text);
  if (invalidArgument) text = `invalid ${invalidArgument[2]} '${invalidArgument[1]}': ${invalidArgument[3]}`;
  text = text
    .replace(/Allowed choices are/, "allowed choices are")
    // Sentences joined into one line; an abbreviation ("e.g. 0s") is not a sentence end.
    .replace(/(?<!\b(?:e\.g|i\.e))\.\s+(\S)/g, (_m, c: string) => `; ${c.toLowerCase()}`)
    .replace(/[.\s]+$/, "");
  return `${text}; see '${path} --help'`;
}

export function firectlProgram(): Command {
  const program = new Command("firectl")
    .description("Command-line client of Hearth's REST API (Fireworks firectl grammar: noun-verb or verb-noun)")
    .version(VERSION, "-V, --version", "print firectl's version")
    .addOption(new Option("-a, --account-id <id>", "account to act on (default: the API key's account)"))
    .addOption(new Option("--api-key <key>", "API key (prefer FIREWORKS_API_KEY or set-api-key: flags show up in ps)"))
    .addOption(new Option("--api-base <url>", `base URL of the API (default ${DEFAULT_API_BASE})`))
    .addOption(new Option("-p, --profile <name>", "use ~/.fireworks/profiles/<name>/auth.ini"))
    .addOption(
      new Option("-o, --output <format>", 'output format: "text", "json", or "flag" (each field as a --flag=value line)').choices(["text", "json", "flag"]),
    )
    .addOption(new Option("--dry-run", "print the HTTP requests instead of sending them"))
    .addHelpText("after", CONFIGURATION_HELP)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  defineResources(
    program,
    [
      userNoun,
      apiKeyNoun,
      keyPolicyNoun,
      auditLogsNoun,
      quotaNoun,
      accountNoun,
      identityProviderNoun,
      permissionPresetNoun,
      webhookNoun,
      modelNoun,
      deploymentNoun,
      datasetNoun,
    ],
    [
      ...userVerbs,
      ...apiKeyVerbs,
      ...apiKeyLifecycleVerbs,
      ...keyPolicyVerbs,
      ...auditLogsVerbs,
      ...quotaVerbs,
      ...accountVerbs,
      ...identityProviderVerbs,
      ...permissionPresetVerbs,
      ...webhookVerbs,
      ...modelVerbs,
      ...deploymentVerbs,
      ...datasetVerbs,
    ],
  );
  defineMisc(program);
  defineSignInCommands(program);
  defineBilling(program);
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput({
      writeOut: printOut,
      writeErr: printErr,
      outputError: (raw, write) => write(`firectl: ${usageSentence(raw, commandPath(command))}\n`),
    });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs firectl with `argv` (node, script, args…) and returns the exit code; prints errors as one line. */
export async function run(argv: readonly string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  try {
    await firectlProgram().parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof CliError) {
      printErr(`firectl: ${error.message}\n`);
      return error.exitCode;
    }
    printErr(`firectl: unexpected failure (${(error as Error)?.message ?? String(error)}); please report it with the command you ran\n`);
    return EXIT_API;
  }
}

if (import.meta.main) process.exitCode = await run(process.argv);
