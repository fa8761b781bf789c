import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { firectlProgram } from "../src/cli/firectl/main.ts";
import type { Account } from "../src/http/resources/account.ts";
import type { ApiKey } from "../src/http/resources/api-key.ts";
import type { Quota } from "../src/http/resources/quota.ts";
import type { User } from "../src/http/resources/user.ts";
import type { Command } from "commander";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { field, FIRECTL_LAUNCHER as LAUNCHER, firstColumn, ok, runProcess, type Run } from "./support/run.ts";

/**
 * End to end: the real firectl (the package's bin launcher, in a child process, with its own HOME)
 * against a real listening Hearth. The documented commands run through /bin/sh exactly as written.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SA_EMAIL = "my-service-account@my-account.sa.hearth.local";

interface RunOptions {
  /** Added to (or, with undefined, removed from) the default environment. */
  env?: Record<string, string | undefined>;
  home?: string;
  input?: string;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "firectl-test-"));
  tempDirs.push(dir);
  return dir;
}

/** A directory holding `firectl` (the bin, as npm links it), first on PATH with this Node. */
const binDir = tempDir();
symlinkSync(LAUNCHER, join(binDir, "firectl"));

let h: TestHearth;
let base = "";

function environment(options: RunOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: [binDir, dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
    HOME: options.home ?? tempDir(),
    FIREWORKS_API_BASE: base,
    FIREWORKS_API_KEY: h?.adminKey,
    ...options.env,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs `firectl ARGS…` with the admin's key and the test server unless told otherwise. */
const firectl = (args: string[], options: RunOptions = {}): Promise<Run> =>
  runProcess(process.execPath, [LAUNCHER, ...args], environment(options), options.input);

/** Runs a command line through /bin/sh, exactly as a reader of the docs would type it. */
const shell = (line: string, options: RunOptions = {}): Promise<Run> => runProcess("/bin/sh", ["-c", line], environment(options), options.input);

/** A failure is one sentence on stderr (no stack trace), nothing on stdout, and the exit code. */
function fails(run: Run, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] ?? "", /^firectl: /);
  assert.match(lines[0] ?? "", pattern);
}

const secretOf = (stdout: string): string => /^API key: (\S+)$/m.exec(stdout)?.[1] ?? "";

before(async () => {
  // Key uses are written only at shutdown here, so a user's lastActiveTime (the newest written use
  // of its keys) cannot move between firectl's request and the API request a test compares it with.
  h = await startHearth("sqlite", { HEARTH_LAST_USED_FLUSH_MS: "600000" });
  base = await h.listen();
});

after(async () => {
  await h.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("firectl: the documented service-account commands", () => {
  test("the five documented commands work exactly as written, and the audit log names the service account by email", async () => {
    const created = ok(await shell('firectl user create --user-id "my-service-account" --service-account'));
    assert.equal(field(created, "Name"), "accounts/my-account/users/my-service-account");
    assert.equal(field(created, "Email"), SA_EMAIL);
    assert.equal(field(created, "Service Account"), "yes");
    assert.equal(field(ok(await shell("firectl user get my-service-account")), "Role"), "user");

    const keyRun = ok(await shell('firectl api-key create --service-account "my-service-account"'));
    assert.match(keyRun, /cannot be shown again/);
    assert.equal(field(keyRun, "Owner"), SA_EMAIL);
    const key = secretOf(keyRun);
    const verified = await h.call("GET", "/verifyApiKey", { key });
    assert.equal(verified.status, 200, "the printed key authenticates");
    assert.equal(verified.body.userId, "my-service-account");
    assert.equal(verified.body.role, "user");

    ok(await shell("firectl user update my-service-account --role=inference-user"));
    assert.equal(field(ok(await shell("firectl user get my-service-account")), "Role"), "inference-user");
    assert.equal((await h.call("GET", "/verifyApiKey", { key })).body.role, "inference-user", "the key acts with the new role");

    const listed = ok(await shell("firectl user list --filter 'service_account=true'"));
    assert.deepEqual(firstColumn(listed), ["my-service-account"], "only service accounts are listed");

    // The service account acts with its own key (a key for itself: no --service-account needed).
    const own = ok(await shell("firectl api-key create --key-name own", { env: { FIREWORKS_API_KEY: key } }));
    assert.equal(field(own, "Owner"), SA_EMAIL);
    const audit = ok(await shell("firectl audit-logs list"));
    const saLines = audit.split("\n").filter((line) => line.includes(SA_EMAIL));
    assert.ok(
      saLines.some((line) => /\sCreateApiKey\s/.test(line) && / OK$/.test(line)),
      audit,
    );

    ok(await shell("firectl user delete my-service-account"));
    assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401, "deleting the service account revoked its key");
    const recreated = ok(await shell('firectl user create --user-id "my-service-account" --service-account --role=contributor'));
    assert.equal(field(recreated, "Role"), "contributor");
    assert.equal(field(ok(await shell("firectl user get my-service-account")), "Role"), "contributor");
  });

  test("a non-admin key is refused creating a key for a service account, with the reason on stderr", async () => {
    const userKey = (await serviceAccountWithKey(h, "ci-bot", "user")).key;
    const before = await h.call("GET", "/v1/accounts/my-account/users/my-service-account/apiKeys");
    const run = await shell('firectl api-key create --service-account "my-service-account"', { env: { FIREWORKS_API_KEY: userKey } });
    fails(run, 1, /role "user" cannot create API keys for service accounts \(PERMISSION_DENIED\)/);
    const afterwards = await h.call("GET", "/v1/accounts/my-account/users/my-service-account/apiKeys");
    assert.equal(afterwards.body.totalSize, before.body.totalSize, "no key was created");
  });

  test("verb-noun order and the ls alias work like noun-verb", async () => {
    const created = ok(await firectl(["create", "user", "--email", "alice@example.com", "--role", "user", "--display-name", "Alice"]));
    assert.equal(field(created, "Name"), "accounts/my-account/users/alice-example-com");
    const stored = await h.call("GET", "/v1/accounts/my-account/users/alice-example-com");
    assert.equal(stored.body.role, "user");
    assert.equal(stored.body.serviceAccount, false);
    assert.ok(firstColumn(ok(await firectl(["ls", "users"]))).includes("alice-example-com"));
    assert.ok(firstColumn(ok(await firectl(["user", "ls"]))).includes("alice-example-com"));
    assert.equal(field(ok(await firectl(["get", "user", "accounts/my-account/users/alice-example-com"])), "Display Name"), "Alice");
    ok(await firectl(["update", "user", "alice-example-com", "--role", "contributor"]));
    assert.equal((await h.call("GET", "/v1/accounts/my-account/users/alice-example-com")).body.role, "contributor");
    ok(await firectl(["delete", "user", "alice-example-com"]));
    assert.equal((await h.call("GET", "/v1/accounts/my-account/users/alice-example-com")).status, 404);
  });
});

describe("firectl: output", () => {
  test("-o json prints the API's JSON unchanged", async () => {
    const user: User = JSON.parse(ok(await firectl(["user", "get", "my-service-account", "-o", "json"])));
    assert.deepEqual(user, (await h.call("GET", "/v1/accounts/my-account/users/my-service-account")).body);
    const list = JSON.parse(ok(await firectl(["user", "list", "-o", "json"])));
    assert.deepEqual(list, (await h.call("GET", "/v1/accounts/my-account/users?pageSize=200")).body);
    const quota: Quota = JSON.parse(ok(await firectl(["-o", "json", "quota", "get", "service-accounts"])));
    assert.deepEqual(quota, (await h.call("GET", "/v1/accounts/my-account/quotas/service-accounts")).body);
    const account: Account = JSON.parse(ok(await firectl(["account", "get", "--output", "json"])));
    assert.deepEqual(account, (await h.call("GET", "/v1/accounts/my-account")).body);
    const whoami = JSON.parse(ok(await firectl(["whoami", "-o", "json"])));
    assert.deepEqual(whoami, (await h.call("GET", "/verifyApiKey")).body);
  });

  test("--page-size prints one page and the token of the next; --page-token continues from it", async () => {
    const all = firstColumn(ok(await firectl(["user", "list"])));
    assert.ok(all.length >= 3);
    const first = ok(await firectl(["user", "list", "--page-size", "1"]));
    assert.deepEqual(firstColumn(first.split("\n\n")[0] ?? ""), all.slice(0, 1));
    const token = field(first, "Next page token") ?? "";
    assert.notEqual(token, "");
    const second = ok(await firectl(["user", "list", "--page-size", "1", "--page-token", token]));
    assert.deepEqual(firstColumn(second.split("\n\n")[0] ?? ""), all.slice(1, 2));
    const page = JSON.parse(ok(await firectl(["user", "list", "--no-paginate", "-o", "json"])));
    assert.equal(page.users.length, all.length);
  });

  test("api-key create takes --key-name and a local --expire-time; get, list and delete act on the caller's keys or --service-account's", async () => {
    const created: ApiKey = JSON.parse(
      ok(await firectl(["api-key", "create", "--key-name", "ci", "--expire-time", "2030-01-31 18:00:00", "-o", "json"], { env: { TZ: "America/New_York" } })),
    );
    assert.equal(created.displayName, "ci");
    assert.equal(created.expireTime, "2030-01-31T23:00:00.000Z", "local time (New York) became UTC");
    assert.match(created.key ?? "", /^hk_/, "the create response carries the secret once");
    assert.equal((await h.call("GET", "/verifyApiKey", { key: created.key })).body.userId, "admin-example-com");

    const mine = ok(await firectl(["api-key", "list"]));
    assert.ok(firstColumn(mine).includes(created.keyId));
    const got = ok(await firectl(["api-key", "get", created.keyId], { env: { TZ: "America/New_York" } }));
    assert.equal(field(got, "Expire Time"), "2030-01-31 18:00:00");
    assert.equal(field(got, "Owner"), "admin@example.com");
    ok(await firectl(["api-key", "delete", created.keyId]));
    assert.equal((await h.call("GET", "/verifyApiKey", { key: created.key })).status, 401);

    const saKey: ApiKey = JSON.parse(ok(await firectl(["api-key", "create", "--service-account", "my-service-account", "-o", "json"])));
    const saKeys = ok(await firectl(["api-key", "list", "--service-account", "accounts/my-account/users/my-service-account"]));
    assert.ok(firstColumn(saKeys).includes(saKey.keyId));
    assert.equal(field(ok(await firectl(["api-key", "get", saKey.keyId, "--service-account", "my-service-account"])), "Owner"), SA_EMAIL);
    const everyone: { apiKeys: ApiKey[] } = JSON.parse(ok(await firectl(["api-key", "list", "--all-users", "-o", "json"])));
    const owners = new Set(everyone.apiKeys.map((k) => k.email));
    assert.ok(owners.has("admin@example.com") && owners.has(SA_EMAIL), "--all-users lists every principal's keys");
    ok(await firectl(["api-key", "delete", `accounts/my-account/users/my-service-account/apiKeys/${saKey.keyId}`]));
    assert.equal((await h.call("GET", "/verifyApiKey", { key: saKey.key })).status, 401);
  });

  test("api-key get, disable and delete KEY_ID, as Fireworks documents them, find a service account's key for an admin; to others it does not exist", async () => {
    const saKey: ApiKey = JSON.parse(ok(await firectl(["api-key", "create", "--service-account", "my-service-account", "-o", "json"])));
    const other = await serviceAccountWithKey(h, "sa-bystander", "user");
    // Over HTTP: users/- finds the key whoever holds it, for its holder and an admin only.
    const byId = `/v1/accounts/my-account/users/-/apiKeys/${saKey.keyId}`;
    const found = await h.call("GET", byId);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.name, `accounts/my-account/users/my-service-account/apiKeys/${saKey.keyId}`);
    const own = await h.call("GET", `/v1/accounts/my-account/users/-/apiKeys/${other.keyId}`, { key: other.key });
    assert.equal(own.status, 200, "the holder finds its own key");
    const probed = await h.call("GET", byId, { key: other.key });
    const missing = await h.call("GET", "/v1/accounts/my-account/users/-/apiKeys/no-such-key", { key: other.key });
    assert.equal(probed.status, 404);
    assert.equal(probed.body.error.message, `API key "${saKey.keyId}" not found`);
    assert.equal(missing.body.error.message, 'API key "no-such-key" not found', "another's key reads as a missing one");

    assert.equal(field(ok(await firectl(["api-key", "get", saKey.keyId])), "Owner"), SA_EMAIL);
    assert.match(ok(await firectl(["api-key", "disable", saKey.keyId, "--reason", "UNUSED"])), /DISABLED/);
    assert.equal(field(ok(await firectl(["api-key", "enable", saKey.keyId])), "State"), "ENABLED");
    fails(await firectl(["api-key", "delete", saKey.keyId], { env: { FIREWORKS_API_KEY: other.key } }), 1, /^firectl: API key "[^"]+" not found \(NOT_FOUND\)/);
    assert.equal((await h.call("GET", "/verifyApiKey", { key: saKey.key })).status, 200, "a non-admin deleted nothing");
    assert.match(ok(await firectl(["api-key", "delete", saKey.keyId])), /^Deleted API key \S+ of accounts\/my-account\/users\/my-service-account;/);
    assert.equal((await h.call("GET", "/verifyApiKey", { key: saKey.key })).status, 401);
    fails(await firectl(["api-key", "delete", saKey.keyId]), 1, /^firectl: API key "[^"]+" not found \(NOT_FOUND\)/);
    // The holder's own key, by its id alone, as before.
    assert.match(
      ok(await firectl(["api-key", "delete", other.keyId], { env: { FIREWORKS_API_KEY: other.key } })),
      /of accounts\/my-account\/users\/sa-bystander;/,
    );
  });

  test("quota update --value changes the quota, and quota list shows it", async () => {
    const updated = ok(await firectl(["quota", "update", "api-keys-per-user", "--value", "7"]));
    assert.equal(field(updated, "Value"), "7");
    assert.equal((await h.call("GET", "/v1/accounts/my-account/quotas/api-keys-per-user")).body.value, "7");
    const row = ok(await firectl(["quota", "list"]))
      .split("\n")
      .find((line) => line.startsWith("api-keys-per-user"));
    assert.match(row ?? "", /^api-keys-per-user\s+7\s/);
  });

  test("version prints the package's version", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(ok(await firectl(["version"])), `firectl ${pkg.version}\n`);
  });
});

describe("firectl: errors", () => {
  test("a wrong flag is one sentence naming it, exit code 2", async () => {
    fails(await firectl(["user", "list", "--fliter", "x"]), 2, /unknown option '--fliter' \(did you mean --filter\?\); see 'firectl user list --help'$/);
  });

  test("an unknown role is refused before any request, exit code 2", async () => {
    const run = await firectl(["user", "create", "--user-id", "x", "--service-account", "--role=owner"], { env: { FIREWORKS_API_BASE: "http://127.0.0.1:9" } });
    fails(run, 2, /invalid --role 'owner': use one of inference-user, contributor, user, admin/);
  });

  test("a bad filter is the server's sentence naming the position, exit code 1", async () => {
    fails(await firectl(["user", "list", "--filter", "bogus=1"]), 1, /invalid filter: .*bogus.* at position \d+ \(INVALID_ARGUMENT\)/);
  });

  test("an unreachable server says where it looked and what to check, exit code 1", async () => {
    const run = await firectl(["user", "list"], { env: { FIREWORKS_API_BASE: "http://127.0.0.1:9" } });
    fails(run, 1, /^firectl: cannot reach Hearth at http:\/\/127\.0\.0\.1:9: connection refused; check --api-base \/ FIREWORKS_API_BASE$/);
  });

  test("a missing argument, an unknown user and a missing key each get one sentence", async () => {
    fails(await firectl(["user", "get"]), 2, /missing required argument 'user'/);
    fails(await firectl(["user", "get", "nobody"]), 1, /user "nobody" not found \(NOT_FOUND\)/);
    fails(await firectl(["whoami"], { env: { FIREWORKS_API_KEY: undefined } }), 2, /no API key is configured/);
    fails(await firectl(["whoami"], { env: { FIREWORKS_API_KEY: "hk_wrong" } }), 1, /UNAUTHENTICATED/);
    fails(await firectl(["user", "create", "--service-account"]), 2, /--user-id is required with --service-account/);
  });
});

describe("firectl: --dry-run", () => {
  test("--dry-run prints method, URL and body with the key masked, and sends nothing", async () => {
    let connections = 0;
    const listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const address = listener.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const run = await firectl(["--dry-run", "-a", "my-account", "user", "create", "--user-id", "dry-sa", "--service-account", "--role", "contributor"], {
        env: { FIREWORKS_API_BASE: `http://127.0.0.1:${port}` },
      });
      const out = ok(run);
      assert.match(out, new RegExp(`^POST http://127\\.0\\.0\\.1:${port}/v1/accounts/my-account/users\\?userId=dry-sa$`, "m"));
      assert.match(out, /^Authorization: Bearer hk_\*\*\*\*$/m);
      assert.match(out, /"serviceAccount": true/);
      assert.match(out, /"role": "contributor"/);
      assert.ok(!out.includes(h.adminKey) && !run.stderr.includes(h.adminKey), "the key is never printed");
      assert.match(run.stderr, /nothing was sent/);
      ok(await firectl(["--dry-run", "api-key", "create", "--key-name", "x"], { env: { FIREWORKS_API_BASE: `http://127.0.0.1:${port}` } }));
    } finally {
      listener.close();
    }
    assert.equal(connections, 0, "no connection was made");
    assert.equal((await h.call("GET", "/v1/accounts/my-account/users/dry-sa")).status, 404);
  });
});

describe("firectl: configuration", () => {
  let otherKey = "";
  before(async () => {
    otherKey = (await serviceAccountWithKey(h, "precedence-sa", "inference-user")).key;
  });

  const emailOf = (run: Run): string | undefined => field(ok(run), "Email");

  function writeIni(home: string, text: string, profile?: string): void {
    const dir = profile ? join(home, ".fireworks", "profiles", profile) : join(home, ".fireworks");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "auth.ini"), text);
  }

  test("flags win over the environment, which wins over ~/.fireworks/auth.ini", async () => {
    const home = tempDir();
    writeIni(home, `# written by hand\napi_key = ${otherKey}\naccount_id = my-account\napi_base = ${base}\n`);
    const noEnv = { FIREWORKS_API_KEY: undefined, FIREWORKS_API_BASE: undefined };
    assert.equal(emailOf(await firectl(["whoami"], { home, env: noEnv })), "precedence-sa@my-account.sa.hearth.local", "file alone");
    assert.equal(emailOf(await firectl(["whoami"], { home, env: { FIREWORKS_API_KEY: h.adminKey } })), "admin@example.com", "env over file");
    assert.equal(
      emailOf(await firectl(["whoami", "--api-key", otherKey], { home, env: { FIREWORKS_API_KEY: h.adminKey } })),
      "precedence-sa@my-account.sa.hearth.local",
      "flag over env",
    );

    writeIni(home, `api_key = ${h.adminKey}\napi_base = http://127.0.0.1:9\naccount_id = file-account\n`);
    assert.equal(emailOf(await firectl(["whoami"], { home, env: { FIREWORKS_API_BASE: base } })), "admin@example.com", "env base over file base");
    fails(await firectl(["whoami"], { home, env: { FIREWORKS_API_BASE: undefined } }), 1, /cannot reach Hearth at http:\/\/127\.0\.0\.1:9/);
    ok(await firectl(["whoami", "--api-base", base], { home, env: { FIREWORKS_API_BASE: "http://127.0.0.1:9" } }));

    const url = async (args: string[], env: Record<string, string | undefined>) =>
      ok(await firectl(["--dry-run", ...args, "quota", "list"], { home, env }))
        .split("\n")[0]
        ?.replace(/\?pageSize=\d+$/, "");
    assert.equal(await url([], { FIREWORKS_API_BASE: base }), `GET ${base}/v1/accounts/file-account/quotas`);
    assert.equal(await url([], { FIREWORKS_API_BASE: base, FIREWORKS_ACCOUNT_ID: "env-account" }), `GET ${base}/v1/accounts/env-account/quotas`);
    assert.equal(
      await url(["-a", "flag-account"], { FIREWORKS_API_BASE: base, FIREWORKS_ACCOUNT_ID: "env-account" }),
      `GET ${base}/v1/accounts/flag-account/quotas`,
    );
  });

  test("without a configured account, the API key's own account is used", async () => {
    const home = tempDir();
    const run = await firectl(["account", "get", "-o", "json"], { home, env: { FIREWORKS_ACCOUNT_ID: undefined } });
    assert.equal(JSON.parse(ok(run)).name, "accounts/my-account");
  });

  test("-p and FIREWORKS_PROFILE read ~/.fireworks/profiles/<p>/auth.ini; a missing profile is a usage error", async () => {
    const home = tempDir();
    writeIni(home, `api_key = ${otherKey}\napi_base = ${base}\n`, "staging");
    const env = { FIREWORKS_API_KEY: undefined, FIREWORKS_API_BASE: undefined };
    assert.equal(emailOf(await firectl(["-p", "staging", "whoami"], { home, env })), "precedence-sa@my-account.sa.hearth.local");
    assert.equal(emailOf(await firectl(["whoami"], { home, env: { ...env, FIREWORKS_PROFILE: "staging" } })), "precedence-sa@my-account.sa.hearth.local");
    fails(await firectl(["-p", "prod", "whoami"], { home, env }), 2, /profile "prod" has no file at .*set-api-key KEY -p prod/);
  });

  test("set-api-key writes the profile file with mode 0600, and later commands use it", async () => {
    const home = tempDir();
    const env = { FIREWORKS_API_KEY: undefined, FIREWORKS_API_BASE: undefined };
    const saved = ok(await firectl(["set-api-key", h.adminKey, "--account-id", "my-account", "--api-base", base], { home, env }));
    assert.ok(!saved.includes(h.adminKey), "the key is not echoed");
    const file = join(home, ".fireworks", "auth.ini");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
    assert.equal(readFileSync(file, "utf8"), `api_key = ${h.adminKey}\naccount_id = my-account\napi_base = ${base}\n`);
    assert.equal(emailOf(await firectl(["whoami"], { home, env })), "admin@example.com");

    ok(await firectl(["set-api-key", "-", "-p", "staging", "--api-base", base], { home, env, input: `${otherKey}\n` }));
    const profileFile = join(home, ".fireworks", "profiles", "staging", "auth.ini");
    assert.equal(statSync(profileFile).mode & 0o777, 0o600);
    assert.equal(emailOf(await firectl(["whoami", "-p", "staging"], { home, env })), "precedence-sa@my-account.sa.hearth.local");
  });
});

describe("firectl: help and completion", () => {
  test("every command's --help ends with an example", () => {
    const missing: string[] = [];
    const visit = (command: Command, path: string): void => {
      let help = "";
      command.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
      command.outputHelp();
      if (!/\nExamples:\n {2}firectl /.test(help)) missing.push(path);
      for (const sub of command.commands) if (sub.name() !== "help") visit(sub, `${path} ${sub.name()}`);
    };
    visit(firectlProgram(), "firectl");
    assert.deepEqual(missing, []);
  });

  test("a reader that closes the pipe early (firectl … | head) ends the output quietly: exit 0, no stack trace", async () => {
    const child = spawn(process.execPath, [LAUNCHER, "completion", "bash"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const [code] = (await once(child, "close")) as [number];
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  test("--help exits 0 and shows the documented example", async () => {
    const run = await firectl(["user", "create", "--help"]);
    assert.match(ok(run), /firectl user create --user-id "my-service-account" --service-account --role=contributor/);
  });

  test("completion bash completes nouns, verbs and role values", async (t) => {
    const script = ok(await firectl(["completion", "bash"]));
    assert.match(ok(await firectl(["completion", "zsh"])), /bashcompinit/);
    const probe = await runProcess(
      "bash",
      [
        "--norc",
        "-c",
        `${script}\nCOMP_WORDS=(firectl user cr); COMP_CWORD=2; _firectl; echo "\${COMPREPLY[*]}"\nCOMP_WORDS=(firectl user update x --role ""); COMP_CWORD=5; _firectl; echo "\${COMPREPLY[*]}"`,
      ],
      { PATH: process.env.PATH ?? "" },
    ).catch(() => undefined);
    if (!probe) return t.skip("bash is not installed");
    assert.equal(probe.stdout, "create\ninference-user contributor user admin\n");
  });
});

describe("firectl: following pages", () => {
  test("a list follows nextPageToken by default and prints every item", async () => {
    const users = await h.call("GET", "/v1/accounts/my-account/users?pageSize=1");
    const existing = users.body.totalSize as number;
    for (let i = 0; i < 201; i++) {
      const res = await h.call("POST", "/v1/accounts/my-account/users", { body: { email: `bulk-${i}@example.com`, role: "inference-user" } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const all: { users: User[]; totalSize: number; nextPageToken: string } = JSON.parse(ok(await firectl(["user", "list", "-o", "json"])));
    assert.equal(all.users.length, existing + 201);
    assert.equal(all.totalSize, existing + 201);
    assert.equal(all.nextPageToken, "");
    assert.equal(new Set(all.users.map((u) => u.name)).size, existing + 201, "no user twice");
    assert.equal(
      firstColumn(ok(await firectl(["user", "list", "--filter", "service_account=true"]))).length,
      all.users.filter((u: { serviceAccount: boolean }) => u.serviceAccount).length,
    );
  });
});
