import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { usageError } from "./errors.ts";

/**
 * Where firectl's settings come from, highest precedence first: flags; the environment
 * (`FIREWORKS_API_KEY`, `FIREWORKS_ACCOUNT_ID`, `FIREWORKS_API_BASE`); the profile file
 * (`~/.fireworks/auth.ini`, or `~/.fireworks/profiles/<p>/auth.ini` with `-p` / `FIREWORKS_PROFILE`);
 * the default base URL. The account id may still be missing here: it is then asked of the server.
 */
export const DEFAULT_API_BASE = "http://127.0.0.1:8080";

/** `-o`: Fireworks firectl's formats (text, json, flag). */
type OutputFormat = "text" | "json" | "flag";

/** The global flags as commander parses them. */
export interface GlobalFlags {
  accountId?: string | undefined;
  apiKey?: string | undefined;
  apiBase?: string | undefined;
  profile?: string | undefined;
  output?: OutputFormat | undefined;
  dryRun?: boolean | undefined;
}

export type Source = "flag" | "environment" | "profile file" | "default";

interface Setting {
  value: string;
  source: Source;
}

/** What `firectl signin` stored in the profile file: the identity provider's tokens. */
interface StoredSignIn {
  readonly idToken: string;
  /** The account signed in to (the file's `account_id`), where the refresh is asked for. */
  readonly accountId: string | undefined;
  readonly refreshToken: string | undefined;
  readonly identityProvider: string | undefined;
}

export interface Settings {
  readonly apiKey: Setting | undefined;
  /** Used when no API key is configured anywhere. */
  readonly signIn: StoredSignIn | undefined;
  readonly accountId: Setting | undefined;
  readonly apiBase: Setting;
  readonly profile: string | undefined;
  /** The profile file consulted (it may not exist when no profile was named). */
  readonly file: string;
  readonly output: OutputFormat;
  readonly dryRun: boolean;
}

/** The keys an auth.ini file may hold; a profile holds one credential, an API key or a sign-in's tokens. */
export interface AuthFile {
  api_key?: string;
  account_id?: string;
  api_base?: string;
  id_token?: string;
  refresh_token?: string;
  identity_provider?: string;
}

const FILE_KEYS = ["api_key", "account_id", "api_base", "id_token", "refresh_token", "identity_provider"] as const;
export type AuthFileKey = (typeof FILE_KEYS)[number];
/** What `firectl signin` writes; `set-api-key` removes these, and `signin` removes `api_key`. */
export const SIGN_IN_KEYS: readonly AuthFileKey[] = ["id_token", "refresh_token", "identity_provider"];

/** `~/.fireworks/auth.ini`, or the named profile's file. */
export function authFilePath(profile: string | undefined, home: string = homedir()): string {
  if (profile === undefined) return join(home, ".fireworks", "auth.ini");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(profile)) {
    throw usageError(`invalid profile name ${JSON.stringify(profile)}: use letters, digits, '.', '_' or '-'`);
  }
  return join(home, ".fireworks", "profiles", profile, "auth.ini");
}

/** Parses `key = value` lines; `#`/`;` comments and `[section]` headers are ignored, quotes stripped. */
export function parseAuthIni(text: string): AuthFile {
  const values: AuthFile = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line
      .slice(eq + 1)
      .trim()
      .replace(/^(["'])(.*)\1$/, "$2");
    if ((FILE_KEYS as readonly string[]).includes(key) && value !== "") values[key as AuthFileKey] = value;
  }
  return values;
}

function readAuthFile(path: string, profile: string | undefined): AuthFile {
  if (!existsSync(path)) {
    if (profile === undefined) return {};
    throw usageError(`profile "${profile}" has no file at ${path}; create it with 'firectl set-api-key KEY -p ${profile}'`);
  }
  try {
    return parseAuthIni(readFileSync(path, "utf8"));
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check its permissions`);
  }
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim());

function pick(flag: string | undefined, env: string | undefined, file: string | undefined): Setting | undefined {
  const f = nonEmpty(flag);
  if (f !== undefined) return { value: f, source: "flag" };
  const e = nonEmpty(env);
  if (e !== undefined) return { value: e, source: "environment" };
  const p = nonEmpty(file);
  if (p !== undefined) return { value: p, source: "profile file" };
  return undefined;
}

/** Checks a base URL once, so a typo is a usage error rather than a confusing network failure. */
export function checkApiBase(value: string, source: Source): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`invalid API base ${JSON.stringify(value)} (from ${source}): expected a URL like ${DEFAULT_API_BASE}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`invalid API base ${JSON.stringify(value)} (from ${source}): use an http:// or https:// URL`);
  }
  return value.replace(/\/+$/, "");
}

/** Resolves every setting once, at the start of a command; the result is frozen. */
export function resolveSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): Settings {
  const profile = nonEmpty(flags.profile) ?? nonEmpty(env.FIREWORKS_PROFILE);
  const file = authFilePath(profile, home);
  const fromFile = readAuthFile(file, profile);
  const base = pick(flags.apiBase, env.FIREWORKS_API_BASE, fromFile.api_base) ?? { value: DEFAULT_API_BASE, source: "default" };
  const signIn = fromFile.id_token
    ? { idToken: fromFile.id_token, accountId: fromFile.account_id, refreshToken: fromFile.refresh_token, identityProvider: fromFile.identity_provider }
    : undefined;
  return Object.freeze({
    apiKey: pick(flags.apiKey, env.FIREWORKS_API_KEY, fromFile.api_key),
    signIn,
    accountId: pick(flags.accountId, env.FIREWORKS_ACCOUNT_ID, fromFile.account_id),
    apiBase: { value: checkApiBase(base.value, base.source), source: base.source },
    profile,
    file,
    output: flags.output ?? "text",
    dryRun: flags.dryRun === true,
  });
}

/**
 * Writes (or updates) a profile file with mode 0600, creating its directories with mode 0700.
 * Keys not given keep their current value, except those in `remove`. The file is replaced atomically.
 */
export function writeAuthFile(path: string, values: AuthFile, remove: readonly AuthFileKey[] = []): AuthFile {
  const merged: AuthFile = { ...(existsSync(path) ? parseAuthIni(readFileSync(path, "utf8")) : {}), ...values };
  for (const key of remove) delete merged[key];
  const text = FILE_KEYS.filter((k) => merged[k] !== undefined)
    .map((k) => `${k} = ${merged[k]}\n`)
    .join("");
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return merged;
}
