import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { field, firectlShell, firstColumn, ok } from "./support/run.ts";

/**
 * Fireworks firectl's defaults and flags, typed through /bin/sh against a real listening Hearth:
 * `user create` without --role, `-o flag`, an all-digit `--page-token` (a page number), `account list`;
 * and the permission presets of custom roles (`permission-preset …`, `user create|update --permission-preset`).
 */
let h: TestHearth;
let base = "";
const sh = firectlShell(() => ({ baseUrl: base, key: h.adminKey }));
/** Runs a command line through /bin/sh with the admin's key, as a reader of Fireworks' docs would type it. */
const shell = sh.run;

before(async () => {
  h = await startHearth("sqlite");
  base = await h.listen();
});

after(async () => {
  await h.stop();
  sh.close();
});

describe("firectl: Fireworks' defaults and flags", () => {
  test("user create without --role makes a human with role user, as Fireworks' firectl does; the API still requires role", async () => {
    const created = ok(await shell('firectl user create --email="alice@example.com"'));
    assert.equal(field(created, "Email"), "alice@example.com");
    assert.equal(field(created, "Role"), "user");
    const api = await h.call("POST", "/v1/accounts/my-account/users", { body: { email: "bob@example.com" } });
    assert.equal(api.status, 400);
    assert.match(api.body.error.message, /role is required/);
  });

  test("-o flag prints each field as a --flag=value line; a list prints one block per item", async () => {
    const user = ok(await shell("firectl user get alice-example-com -o flag"));
    const lines = user.trimEnd().split("\n");
    assert.ok(lines.includes("--name=accounts/my-account/users/alice-example-com"), user);
    assert.ok(lines.includes("--email=alice@example.com"), user);
    assert.ok(lines.includes("--role=user"), user);
    assert.ok(lines.includes("--service-account=false"), user);
    assert.ok(lines.includes("--status-code=OK"), user);
    assert.ok(
      lines.every((line) => /^--[a-z][a-z-]*(=.*)?$/.test(line)),
      user,
    );

    const quotas = ok(await shell("firectl quota list --output flag"));
    const blocks = quotas.trimEnd().split("\n\n");
    assert.equal(blocks.length, JSON.parse(ok(await shell("firectl quota list -o json"))).quotas.length);
    assert.ok(blocks.every((block) => /^--name=accounts\/my-account\/quotas\/[a-z-]+$/m.test(block)));

    const named = ok(await shell("firectl account get -o flag"));
    assert.match(named, /^--display-name=my-account$/m);
    assert.match(named, /^--suspend-state=UNSUSPENDED$/m);
    const refused = await shell("firectl user list -o yaml");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /allowed choices are text, json, flag/);
  });

  test("an all-digit --page-token is a page number counted from 0, as Fireworks' firectl reference counts them: firectl walks to that page", async () => {
    for (const id of ["pg-a", "pg-b", "pg-c"]) ok(await shell(`firectl user create --user-id ${id} --service-account`));
    const everyone = firstColumn(ok(await shell("firectl user list")));
    assert.ok(everyone.length >= 4, everyone.join(","));
    const pageOf = async (n: number) => firstColumn(ok(await shell(`firectl user list --page-size 2 --page-token ${n}`)).split("\n\nNext page token")[0] ?? "");
    // Regression: pages were counted from 1, so --page-token 0 and 1 both printed the first page
    // and a script walking pages 0 … n (as Fireworks' "a number from 0 to the total number of pages" reads) saw one twice.
    assert.deepEqual(await pageOf(0), everyone.slice(0, 2));
    assert.deepEqual(await pageOf(1), everyone.slice(2, 4));
    assert.deepEqual(await pageOf(99), [], "past the last page is an empty page");
    const second = ok(await shell("firectl user list --page-size 2 --page-token 1 -o json"));
    assert.deepEqual(
      JSON.parse(second).users.map((u: { name: string }) => u.name.split("/").pop()),
      everyone.slice(2, 4),
    );
    const opaque = await shell("firectl user list --page-token abc");
    assert.equal(opaque.code, 1, "a token that is not a number is still the server's opaque token");
    assert.match(opaque.stderr, /INVALID_ARGUMENT/);
  });

  test("account list shows the credential's own account, the list a NOT_FOUND account get points to", async () => {
    const listed = ok(await shell("firectl account list"));
    assert.deepEqual(firstColumn(listed), ["my-account"]);
    assert.deepEqual(firstColumn(ok(await shell("firectl list accounts"))), ["my-account"]);
    const got = ok(await shell("firectl account get"));
    assert.equal(field(got, "Account Type"), "ACCOUNT_TYPE_UNSPECIFIED");
    assert.equal(field(got, "Suspend State"), "UNSUSPENDED");
    const other = await shell("firectl account get acme");
    assert.equal(other.code, 1);
    assert.match(other.stderr, /the list command shows what exists/);
    assert.match(ok(await shell("firectl account --help")), /\blist\b/);
  });

  test("quota list takes the list flags: --filter and --page-size", async () => {
    assert.deepEqual(firstColumn(ok(await shell("firectl quota list --filter 'name=\"service-accounts\"'"))), ["service-accounts"]);
    const page = ok(await shell("firectl quota list --page-size 2"));
    assert.equal(firstColumn(page.split("\n\nNext page token")[0] ?? "").length, 2);
    assert.match(page, /^Next page token: \S+$/m);
  });
});

describe("firectl: permission presets", () => {
  test("permission-preset create, get, list, update and delete", async () => {
    const created = ok(await shell("firectl permission-preset create agent --actions models.list,inference.run --display-name Agent"));
    assert.equal(field(created, "Name"), "accounts/my-account/permissionPresets/agent");
    assert.equal(field(created, "Actions"), "inference.run, models.list");
    assert.equal(field(ok(await shell("firectl permission-preset get agent")), "Display Name"), "Agent");
    assert.deepEqual(firstColumn(ok(await shell("firectl permission-preset list"))), ["agent"]);
    const updated = ok(await shell("firectl permission-preset update agent --actions models.list,models.get"));
    assert.equal(field(updated, "Actions"), "models.get, models.list");
    const unknown = await shell("firectl permission-preset create bad --actions models.fly");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown action "models\.fly".*\(INVALID_ARGUMENT\)/);
    ok(await shell("firectl permission-preset create spare --actions users.list"));
    assert.match(ok(await shell("firectl permission-preset delete spare")), /Deleted permission preset accounts\/my-account\/permissionPresets\/spare/);
  });

  test("user create --role custom --permission-preset and --permission-preset alone give role custom; a preset in use is not deleted", async () => {
    ok(await shell("firectl permission-preset create runner --actions inference.run"));
    const human = ok(await shell('firectl user create --email="carol@example.com" --role custom --permission-preset runner'));
    assert.equal(field(human, "Role"), "custom");
    assert.equal(field(human, "Permission Preset"), "runner");
    const bot = ok(await shell('firectl user create --service-account --user-id="my-agent" --permission-preset=runner'));
    assert.equal(field(bot, "Role"), "custom");
    const refused = await shell("firectl permission-preset delete runner");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /permission preset "runner" is in use: 2 principals hold it.*\(FAILED_PRECONDITION\)/);
    const moved = ok(await shell("firectl user update my-agent --role contributor"));
    assert.equal(field(moved, "Role"), "contributor");
    assert.equal(field(moved, "Permission Preset"), "");
    assert.equal(field(ok(await shell("firectl user update my-agent --permission-preset runner")), "Role"), "custom");
  });
});
