import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS } from "./support/hearth.ts";
import { hearth, processHearth, type ProcessHearth } from "./support/process.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`the last-admin rule counts admins who can act (${dialect})`, () => {
    let p: ProcessHearth;
    let adminKey: string;
    const call = (method: string, path: string, key: string, body?: unknown) => p.call(method, path, key, body);
    const operatorEntries = async (key: string) =>
      (await call("GET", `${A}/auditLogs?pageSize=50&filter=${encodeURIComponent('principal="operator" AND method="UpdateUser"')}`, key)).body
        .auditLogs as any[];

    before(async () => {
      // The operator command writes the store from another process: no cached role may outlive it.
      p = await processHearth(dialect, { HEARTH_KEY_CACHE_TTL_MS: "0" });
      await p.serve();
      adminKey = p.adminKey();
    });
    after(() => p.close());

    test("regression: the only admin makes a key-less service account admin and cannot then demote or delete itself", async () => {
      const robot = await call("POST", `${A}/users?userId=robot`, adminKey, { serviceAccount: true, role: "admin" });
      assert.equal(robot.status, 200, JSON.stringify(robot.body));
      const demote = await call("PATCH", `${A}/users/admin-example-com`, adminKey, { role: "user" });
      assert.equal(demote.status, 400);
      assert.equal(demote.body.error.status, "FAILED_PRECONDITION");
      assert.equal(
        demote.body.error.message,
        'user "admin-example-com" is the account\'s last admin who can act; first make another user an admin who can act (a human, or a service account with an unexpired API key) admin',
      );
      assert.equal((await call("DELETE", `${A}/users/admin-example-com`, adminKey)).status, 400);
      const me = await call("GET", `${A}/users/admin-example-com`, adminKey);
      assert.equal(me.body.role, "admin", "still admin, still able to act");
      const refusals = await call("GET", `${A}/auditLogs?filter=${encodeURIComponent('method="UpdateUser" AND status:"FAILED_PRECONDITION"')}`, adminKey);
      assert.equal(refusals.body.auditLogs.length, 1, "the refusal is audited");
    });

    test("a service-account admin with a live key can act; its last key cannot be deleted while it is the only admin who can act", async () => {
      const key = await call("POST", `${A}/users/robot/apiKeys`, adminKey, { apiKey: { displayName: "robot" } });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      const robotKey: string = key.body.key;
      const robotKeyId: string = key.body.keyId;
      const demote = await call("PATCH", `${A}/users/admin-example-com`, adminKey, { role: "user" });
      assert.equal(demote.status, 200, "the robot can act now, so the human may step down");
      const last = await call("DELETE", `${A}/users/robot/apiKeys/${robotKeyId}`, robotKey);
      assert.equal(last.status, 400);
      assert.equal(last.body.error.status, "FAILED_PRECONDITION");
      assert.match(last.body.error.message, /^API key "[^"]+" is the last live key of service account "robot", the account's last admin who can act/);
      const demoteRobot = await call("PATCH", `${A}/users/robot`, robotKey, { role: "user" });
      assert.equal(demoteRobot.status, 400, "nor can the robot demote itself");
      assert.equal((await call("GET", `${A}/users/robot`, robotKey)).body.role, "admin");

      // The operator refuses the same: the robot is the only admin who can act.
      const refused = await hearth(["user", "set-role", "robot", "user", "--account", "my-account"], p.env);
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /hearth: user "robot" is the account's last admin who can act/);

      // The operator makes the human admin again, by email, as a real process; audited as "operator".
      const restored = await hearth(["user", "set-role", "admin@example.com", "admin", "--account", "my-account"], p.env);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(restored.stdout.trim(), 'user "admin-example-com" of account "my-account": role admin (was user)');
      assert.equal((await call("GET", `${A}/users/admin-example-com`, adminKey)).body.role, "admin");
      const entries = await operatorEntries(adminKey);
      assert.equal(entries.length, 2, JSON.stringify(entries));
      const [granted, refusedEntry] = entries; // newest first
      assert.deepEqual(
        [granted.resource, granted.status.code, granted.payload, granted.isAdminAction, granted.userAgent],
        ["accounts/my-account/users/admin-example-com", "OK", { role: "admin", previousRole: "user" }, true, "hearth"],
      );
      assert.deepEqual([refusedEntry.resource, refusedEntry.status.code], ["accounts/my-account/users/robot", "FAILED_PRECONDITION"]);
      assert.match(refusedEntry.status.message, /^FAILED_PRECONDITION: user "robot" is the account's last admin who can act/);

      const now = await call("DELETE", `${A}/users/robot/apiKeys/${robotKeyId}`, adminKey);
      assert.equal(now.status, 200, "with a human admin back, the robot's last key may go");
    });

    test("hearth user set-role refuses an unknown user, account or role with a sentence", async () => {
      const user = await hearth(["user", "set-role", "nobody", "admin", "--account", "my-account"], p.env);
      assert.equal(user.code, 1);
      assert.match(user.stderr, /no user "nobody" in account "my-account"/);
      const account = await hearth(["user", "set-role", "robot", "admin", "--account", "nope"], p.env);
      assert.equal(account.code, 1);
      assert.match(account.stderr, /account "nope" not found/);
      const role = await hearth(["user", "set-role", "robot", "emperor", "--account", "my-account"], p.env);
      assert.equal(role.code, 1);
      assert.match(role.stderr, /unknown role "emperor"/);
    });
  });
}
