import type { Command } from "commander";
import type { VerifiedKey } from "../../http/resources/api-key.ts";
import { HearthClient, type ApiRequest } from "./client.ts";
import { resolveSettings, type GlobalFlags, type Settings } from "./config.ts";
import { usageError } from "./errors.ts";
import { currentIdToken } from "./sign-in.ts";
import { json, renderFlags } from "./output.ts";
import { printErr, printOut } from "./terminal.ts";
import type { Ref } from "./names.ts";
import { VERSION } from "./version.ts";

/** The principal behind the API key, as `GET /verifyApiKey` describes it. */
type Caller = VerifiedKey;

/** Stand-ins printed by `--dry-run` for what only `GET /verifyApiKey` could tell. */
const PLACEHOLDER: Caller = {
  accountId: "ACCOUNT_ID",
  userId: "CALLER_USER_ID",
  email: "",
  role: "",
  serviceAccount: false,
  keyId: "",
};

/**
 * What a command runs with: its resolved settings, the HTTP client, and printing. Under `--dry-run`
 * every request is printed instead of sent, and lookups answer with placeholders.
 */
export class Context {
  readonly settings: Settings;
  readonly client: HearthClient;
  #caller: Promise<Caller> | undefined;
  #idToken: Promise<string> | undefined;
  #usedPlaceholders = false;

  constructor(settings: Settings) {
    this.settings = settings;
    this.client = new HearthClient(settings.apiBase.value, `firectl/${VERSION}`);
  }

  /**
   * The bearer credential: an API key (flag, environment or profile file), else the ID token that
   * `firectl signin` stored, renewed first when it is about to expire.
   */
  bearer(): Promise<string> {
    const key = this.settings.apiKey;
    if (key) {
      if (!/^[\x21-\x7e]+$/.test(key.value)) {
        throw usageError(`the API key (from ${key.source}) contains spaces or characters a key never has; copy it again`);
      }
      return Promise.resolve(key.value);
    }
    if (this.settings.signIn) return (this.#idToken ??= currentIdToken(this.settings, this.client));
    throw usageError(
      "no API key is configured and no sign-in is stored; pass --api-key, set FIREWORKS_API_KEY, run 'firectl set-api-key KEY' or 'firectl signin'",
    );
  }

  /** The credential as `--dry-run` shows it (masked by the printer). */
  get shownCredential(): string | undefined {
    return this.settings.apiKey?.value ?? this.settings.signIn?.idToken;
  }

  /** What `--dry-run` prints for a request. */
  describe(request: ApiRequest): string {
    return this.client.describe(request, this.settings.output === "json" ? "json" : "text", this.shownCredential);
  }

  /** Whether stdout is for programs (`-o json` or `-o flag`): only the result goes there, notes to stderr. */
  get structured(): boolean {
    return this.settings.output !== "text";
  }

  get dryRun(): boolean {
    return this.settings.dryRun;
  }

  /** Prints to stdout; server-provided text is made terminal-safe there. */
  out(text: string): void {
    printOut(text);
  }

  /** Notes for a person (warnings, dry-run remarks) go to stderr, so stdout stays parseable. */
  note(text: string): void {
    printErr(`${text}\n`);
  }

  /** Prints a result: the API's JSON with `-o json`, its fields as flags with `-o flag`, otherwise the text rendering. */
  show<T>(value: T, text: (value: T) => string): void {
    const format = this.settings.output;
    this.out(format === "json" ? json(value) : format === "flag" ? renderFlags(value) : text(value));
  }

  /** Sends a request (or, under `--dry-run`, prints it) and hands the answer to `show`. */
  async call<T>(request: ApiRequest, show: (result: T) => void | Promise<void>): Promise<void> {
    if (this.dryRun) {
      this.out(this.describe(request));
      return;
    }
    await show(await this.send<T>(request));
  }

  /** Sends a request; never under `--dry-run` (callers go through `call` or check `dryRun`). */
  async send<T>(request: ApiRequest): Promise<T> {
    return this.client.send<T>(request, await this.bearer());
  }

  /** Who the API key belongs to (one `GET /verifyApiKey` per run). */
  caller(): Promise<Caller> {
    if (this.dryRun) {
      if (!this.#usedPlaceholders) this.out(this.describe({ method: "GET", path: "/verifyApiKey" }));
      this.#usedPlaceholders = true;
      return Promise.resolve({ ...PLACEHOLDER, accountId: this.settings.accountId?.value ?? PLACEHOLDER.accountId });
    }
    this.#caller ??= this.send<Caller>({ method: "GET", path: "/verifyApiKey" });
    return this.#caller;
  }

  /**
   * The account to act on: the one a full resource name carried, else the configured one, else the
   * API key's own. A full name naming another account than the configured one is refused.
   */
  async accountId(ref?: Ref): Promise<string> {
    const configured = this.settings.accountId;
    if (ref?.accountId !== undefined) {
      if (configured && configured.value !== ref.accountId) {
        throw usageError(
          `the name names account "${ref.accountId}" but the account in use is "${configured.value}" (from ${configured.source}); give the id alone or change -a/--account-id`,
        );
      }
      return ref.accountId;
    }
    if (configured) return configured.value;
    return (await this.caller()).accountId;
  }

  /** Called once the command has run: explains a dry run. */
  finish(): void {
    if (!this.dryRun) return;
    const placeholders = this.#usedPlaceholders ? `; ${PLACEHOLDER.accountId} and ${PLACEHOLDER.userId} stand for what GET /verifyApiKey would return` : "";
    this.note(`dry run: nothing was sent${placeholders}`);
  }
}

/**
 * Attaches an action that gets a Context built from the global flags, the command's arguments and
 * its own options.
 */
export function runs<O>(command: Command, run: (ctx: Context, args: string[], options: O) => Promise<void>): Command {
  return command.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const ctx = new Context(resolveSettings(self.optsWithGlobals<GlobalFlags>()));
    await run(ctx, self.processedArgs as string[], self.opts() as O);
    ctx.finish();
  });
}
