#!/usr/bin/env node
/**
 * @module `hearth`: the server and operator CLI (docs/operations.md). Operator commands act on the store directly.
 */
import { Command } from "commander";
import { loadConfig, ConfigError, type Config } from "../config.ts";
import { ApiError } from "../domain/errors.ts";
import { createAccount } from "../service/accounts.ts";
import { releaseIdentityProvider } from "../service/identity-provider-release.ts";
import { setRoleAsOperator } from "../service/operator-set-role.ts";
import { setQuotaMax } from "../service/quotas.ts";
import { announceAccountChange } from "../cluster/setup.ts";
import { createSigninLink } from "../service/signin-links.ts";
import { bootstrap, createHearth, type Hearth } from "../server.ts";
import { putServerSetting } from "../store/server-settings.ts";
import { migrate } from "../store/migrations.ts";
import { openStore, type Store } from "../store/store.ts";
import { backupCommands } from "./backup.ts";
import { auditCommands } from "./audit.ts";
import { parseCount } from "./firectl/parsers.ts";

async function withStore<T>(config: Config, run: (store: Store) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: options.migrate });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

async function serve(config: Config): Promise<void> {
  const hearth = await createHearth(config);
  await hearth.app.listen({ host: config.host, port: config.port });
  const url = await recordPublicUrl(hearth);
  await bootstrap(hearth.deps, (line) => console.log(line));
  console.log(`Hearth listening on ${url} (store: ${hearth.deps.store.dialect})`);
  const stop = (signal: string) => {
    console.log(`${signal}: finishing in-flight requests and closing the store`);
    hearth.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

/**
 * Records the URL this server answers on (HEARTH_PUBLIC_URL, else its listen address and actual port)
 * in the store, for links that operator commands print from another shell; returns it.
 */
async function recordPublicUrl(hearth: Hearth): Promise<string> {
  const { config, store } = hearth.deps;
  const listening = hearth.app.server.address();
  const port = typeof listening === "object" && listening ? listening.port : config.port;
  const url = config.publicUrl ?? `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  await putServerSetting(store.db, "public_url", url, Date.now());
  return url;
}

function hearthProgram(): Command {
  const program = new Command("hearth").description("Hearth: account and access control plane for AI platforms").showHelpAfterError();

  program
    .command("serve")
    .description("run the HTTP API (creates the first account and admin key on an empty store)")
    .action(() => serve(loadConfig()));

  program
    .command("migrate")
    .description("apply pending database migrations and exit")
    .action(async () => {
      const applied = await withStore(loadConfig(), (store) => migrate(store.db, store.dialect), { migrate: false });
      console.log(applied.length ? `applied migrations ${applied.join(", ")}` : "database is up to date");
    });

  const account = program.command("account").description("operator commands for accounts");
  account
    .command("create <accountId>")
    .description("create an account with a human admin; prints the admin's API key once")
    .requiredOption("--admin-email <email>", "email of the account's first admin")
    .addHelpText("after", "\nExample:\n  hearth account create acme --admin-email ops@acme.example")
    .action(async (accountId: string, opts: { adminEmail: string }) => {
      const config = loadConfig();
      const created = await withStore(config, (store) => createAccount(store, config, accountId, opts.adminEmail));
      console.log(`Created account "${created.accountId}" with admin ${created.adminEmail} (user ${created.adminUserId}).`);
      console.log("Admin API key (shown once; it cannot be shown again):");
      console.log(`  ${created.apiKey}`);
    });

  account
    .command("quota")
    .description("operator quota commands")
    .command("set <accountId> <quotaId>")
    .description("set a quota's maximum (the ceiling an admin's value must stay under)")
    .requiredOption("--max <n>", "the new maximum", parseCount)
    .addHelpText("after", "\nExample:\n  hearth account quota set my-account service-accounts --max 500")
    .action(async (accountId: string, quotaId: string, opts: { max: number }) => {
      const config = loadConfig();
      await withStore(config, (store) => setQuotaMax(store, accountId, quotaId, opts.max));
      // Running servers keep the account's quotas in memory: they read them afresh now.
      await announceAccountChange(config, accountId);
      console.log(`quota "${quotaId}" of account "${accountId}": maxValue ${opts.max}`);
    });

  program
    .command("user")
    .description("operator commands for users")
    .command("set-role <user> <role>")
    .description('give a user (id or email) a role, e.g. make someone admin again; audited as "operator"')
    .option("--account <accountId>", "the user's account (default: HEARTH_ACCOUNT_ID)")
    .addHelpText("after", "\nExample:\n  hearth user set-role alice@acme.example admin --account acme")
    .action(async (user: string, role: string, opts: { account?: string }) => {
      const config = loadConfig();
      const accountId = opts.account ?? config.accountId;
      const done = await withStore(config, (store) => setRoleAsOperator(store, accountId, user, role));
      console.log(`user "${done.userId}" of account "${accountId}": role ${role} (was ${done.previousRole})`);
    });

  program
    .command("identity-provider")
    .description("operator commands for identity providers")
    .command("release <issuerUrl> <clientId>")
    .description("take an OIDC issuer and client id away from the account holding it: its provider is disabled (its sessions end) and the pair is free")
    .option("--to <accountId>", "re-enable that account's disabled provider with the same issuer and client id")
    .addHelpText("after", "\nExample:\n  hearth identity-provider release https://login.corp.example hearth-console --to corp")
    .action(async (issuerUrl: string, clientId: string, opts: { to?: string }) => {
      const done = await withStore(loadConfig(), (store) => releaseIdentityProvider(store, issuerUrl, clientId, opts.to));
      console.log(`released issuer ${issuerUrl} client id ${clientId}: ${done.released} is DISABLED`);
      if (done.grantedTo) console.log(`${done.grantedTo} now holds it (READY)`);
    });

  program
    .command("signin-link <email>")
    .description("print a one-time web sign-in link for a human user (single use, expires in 15 minutes)")
    .option("--account <accountId>", "the user's account (default: HEARTH_ACCOUNT_ID)")
    .addHelpText("after", "\nExample:\n  hearth signin-link alice@acme.example --account acme")
    .action(async (email: string, opts: { account?: string }) => {
      const config = loadConfig();
      const link = await withStore(config, (store) => createSigninLink({ store, config }, opts.account ?? config.accountId, email));
      console.log(`One-time sign-in link for ${link.email} (single use, expires ${link.expireTime}):`);
      console.log(`  ${link.url}`);
    });

  backupCommands(program, loadConfig);
  auditCommands(program, loadConfig);

  return program;
}

/** Runs the CLI; resolves to the exit code (`serve` keeps the process alive after resolving). */
export async function run(argv: string[]): Promise<number> {
  try {
    await hearthProgram().exitOverride().parseAsync(argv);
    // A command may have reported a failure it printed itself (`hearth audit verify`: a broken link).
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error: unknown) {
    const e = error as { code?: string; exitCode?: number; message?: string };
    // commander has already printed its own usage errors and help.
    if (typeof e.code === "string" && e.code.startsWith("commander.")) return e.exitCode ?? 2;
    console.error(`hearth: ${error instanceof ApiError || error instanceof ConfigError ? error.message : (e.message ?? String(error))}`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await run(process.argv);
