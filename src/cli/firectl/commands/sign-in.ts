import { Option, type Command } from "commander";
import { resolveSettings, type GlobalFlags } from "../config.ts";
import { Context } from "../context.ts";
import { apiFailure, usageError } from "../errors.ts";
import { wholeNumber } from "../../../domain/whole-number.ts";
import { renderFields } from "../output.ts";
import { printOut } from "../terminal.ts";
import { forgetSignIn, saveSignIn, signIn } from "../sign-in.ts";
import type { CliSignOut } from "../../../http/resources/sign-in.ts";

/** `firectl signin` and `firectl signout`: a human's identity-provider sign-in stored in the profile file. */
const parsePort = (value: string): number => {
  const port = wholeNumber(value, 0, 65535);
  if (port === undefined) throw usageError(`invalid --port '${value}': use 0 (any free port) to 65535`);
  return port;
};

function defineSignin(program: Command): void {
  program
    .command("signin")
    .description("sign in as a human through the account's identity provider in the browser; stores the ID token in the profile file (mode 0600)")
    .argument("[account-id]", "the account to sign in to (default: -a / FIREWORKS_ACCOUNT_ID / the profile's account_id)")
    .option("--identity-provider <id>", "the identity provider to use when the account has several")
    .option("--no-browser", "only print the URL to open; a browser on another machine ends on a page that cannot load: paste its address")
    .addOption(new Option("--port <port>", "port of the loopback listener").argParser(parsePort).default(0, "any free port"))
    .addHelpText(
      "after",
      "\nThe browser returns to a listener on 127.0.0.1; firectl then holds an ID token of the identity provider,\nrenewed through Hearth before it expires when the provider issues refresh tokens. The sign-in replaces an\nAPI key stored in the same profile; --api-key and FIREWORKS_API_KEY still take precedence.\n\nExamples:\n  firectl signin my-account\n  firectl signin my-account --identity-provider corp -p work\n  firectl signin --no-browser\n",
    )
    .action(async (account: string | undefined, options: { identityProvider?: string; browser: boolean; port: number }, command: Command) => {
      const ctx = new Context(resolveSettings(command.optsWithGlobals<GlobalFlags>()));
      const s = ctx.settings;
      const accountId = account ?? s.accountId?.value;
      if (!accountId) throw usageError("name the account to sign in to: 'firectl signin ACCOUNT_ID' (or -a / FIREWORKS_ACCOUNT_ID)");
      if (ctx.dryRun) {
        ctx.out(
          `would list the identity providers of account "${accountId}" (GET ${s.apiBase.value}/auth/providers?account=${accountId}), open the browser at ${s.apiBase.value}/auth/cli/${accountId}/<provider>/start with a loopback redirect, and save the ID token to ${s.file} (mode 0600)\n`,
        );
        ctx.finish();
        return;
      }
      const signedIn = await signIn(ctx.client, accountId, { ...options, note: (text) => ctx.note(text) });
      saveSignIn(s.file, signedIn, s.apiBase.source === "default" ? undefined : s.apiBase.value);
      const summary = {
        user: signedIn.user,
        email: signedIn.email,
        accountId: signedIn.accountId,
        identityProviderId: signedIn.identityProviderId,
        expireTime: signedIn.expireTime,
        renewable: signedIn.refreshToken !== undefined,
        file: s.file,
      };
      ctx.show(summary, (v) =>
        renderFields([
          ["Signed In As", v.email],
          ["User", v.user],
          ["Identity Provider", v.identityProviderId],
          ["Token Expires", `${v.expireTime}${v.renewable ? " (renewed automatically)" : " (sign in again then)"}`],
          ["Saved To", `${v.file} (mode 0600)`],
        ]),
      );
      if (s.apiKey && s.apiKey.source !== "profile file") {
        ctx.note(`note: an API key from ${s.apiKey.source} takes precedence over the sign-in; unset it to act as ${signedIn.email}`);
      } else if (s.apiKey) {
        ctx.note(`note: the sign-in replaced the API key stored in ${s.file}`);
      }
    });
}

function defineSignout(program: Command): void {
  program
    .command("signout")
    .description("end the sign-in stored by 'firectl signin': Hearth stops renewing it, and it is removed from the profile file")
    .addHelpText(
      "after",
      "\nHearth stops renewing the sign-in (no copy of its refresh token works again) and revokes the refresh token at the\nidentity provider where the provider offers that; the ID token expires on its own. Without a refresh token stored,\nthe sign-in is only removed from the file.\n\nExamples:\n  firectl signout\n  firectl signout -p work\n",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = new Context(resolveSettings(command.optsWithGlobals<GlobalFlags>()));
      const s = ctx.settings;
      const stored = s.signIn;
      const renewable = stored?.refreshToken && stored.accountId && stored.identityProvider ? stored : undefined;
      const request = renewable && {
        method: "POST" as const,
        path: "/auth/cli/signout",
        body: { accountId: renewable.accountId, identityProviderId: renewable.identityProvider, refreshToken: renewable.refreshToken },
      };
      if (ctx.dryRun) {
        ctx.out(
          request
            ? `would end the sign-in at Hearth (POST ${s.apiBase.value}/auth/cli/signout) and remove it from ${s.file}\n`
            : `would remove the sign-in from ${s.file}\n`,
        );
        ctx.finish();
        return;
      }
      let ended: CliSignOut | undefined;
      let failure: unknown;
      if (request) {
        try {
          ended = await ctx.client.send<CliSignOut>(request);
        } catch (error) {
          failure = error;
        }
      }
      // Removed from the file whatever Hearth answered: the person asked to be signed out here.
      if (!forgetSignIn(s)) return printOut(`No sign-in is stored in ${s.file}.\n`);
      if (failure) {
        const why = failure instanceof Error ? failure.message : String(failure);
        throw apiFailure(
          `removed the sign-in from ${s.file}, but Hearth did not end it (${why}); its refresh token still works until an admin revokes your sessions`,
        );
      }
      const where =
        ended === undefined
          ? ""
          : ended.revokedAtProvider
            ? " Hearth ended it, and the identity provider revoked its refresh token."
            : " Hearth ended it: its refresh token is not renewed again.";
      printOut(`Signed out: removed the sign-in from ${s.file}.${where}\n`);
    });
}

export function defineSignInCommands(program: Command): void {
  defineSignin(program);
  defineSignout(program);
}
