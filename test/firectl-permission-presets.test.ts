import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { field, firectlShell, firstColumn, ok } from "./support/run.ts";

/**
 * firectl's permission presets and `user create|update --permission-preset`, typed through /bin/sh
 * against a real listening Hearth, as Fireworks' firectl documents them.
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
