import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ApiKey } from "../src/http/resources/api-key.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { field, firectlShell, ok, type FirectlShell } from "./support/run.ts";

/** `firectl api-key create|update` with restriction flags, typed in a shell against a real Hearth. */
let h: TestHearth;
let key = "";
let sh: FirectlShell;

before(async () => {
  h = await startHearth("sqlite");
  await h.listen();
  key = h.adminKey;
  sh = firectlShell(() => ({ baseUrl: h.baseUrl, key }));
  await serviceAccountWithKey(h, "agent", "contributor");
});

after(async () => {
  sh.close();
  await h.stop();
});

describe("firectl: API key restrictions", () => {
  test("api-key create takes --scopes, --allowed-models, --allowed-cidrs, --rpm, --tpm and --monthly-spend-usd; get shows them", async () => {
    const created: ApiKey = JSON.parse(
      ok(
        await sh.run(
          "firectl api-key create --service-account agent --key-name agent --scopes models.list,inference.run " +
            "--allowed-models 'accounts/fireworks/models/*' --allowed-cidrs 203.0.113.0/24,2001:db8::/32 --rpm 60 --tpm 5000 --monthly-spend-usd 12.50 -o json",
        ),
      ),
    );
    assert.deepEqual(created.scopes, ["models.list", "inference.run"]);
    assert.deepEqual(created.allowedModels, ["accounts/fireworks/models/*"]);
    assert.deepEqual(created.allowedCidrs, ["203.0.113.0/24", "2001:db8::/32"]);
    assert.deepEqual([created.rpm, created.tpm, created.monthlySpendUsd], [60, 5000, 12.5]);

    const shown = ok(await sh.run(`firectl api-key get ${created.keyId} --service-account agent`));
    assert.equal(field(shown, "Scopes"), "models.list, inference.run");
    assert.equal(field(shown, "Allowed CIDRs"), "203.0.113.0/24, 2001:db8::/32");
    assert.equal(field(shown, "Monthly Spend USD"), "12.5");

    // firectl runs on loopback, outside the key's networks: the key is refused with a sentence naming why.
    key = created.key ?? "";
    try {
      const refused = await sh.run("firectl account get");
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^firectl: this API key may not be used from address 127\.0\.0\.1: it is outside the key's allowedCidrs \(PERMISSION_DENIED\)/,
      );
    } finally {
      key = h.adminKey;
    }

    // An empty list or 0 lifts a restriction; the key then works from here, within its scopes.
    const updated = ok(await sh.run(`firectl api-key update ${created.keyId} --service-account agent --allowed-cidrs '' --rpm 0 --scopes models.list`));
    assert.equal(field(updated, "Allowed CIDRs"), undefined);
    assert.equal(field(updated, "RPM"), undefined);
    assert.equal(field(updated, "Scopes"), "models.list");
    assert.equal(field(updated, "TPM"), "5000", "a flag not given leaves its restriction");
    key = created.key ?? "";
    try {
      ok(await sh.run("firectl model list"));
      const refused = await sh.run("firectl user list");
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /this API key's scopes do not include "users\.list"/);
    } finally {
      key = h.adminKey;
    }
  });

  test("a bad restriction is one sentence naming it: a malformed flag (exit 2) or the server's refusal (exit 1)", async () => {
    const usage = await sh.run("firectl api-key create --monthly-spend-usd lots");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--monthly-spend-usd/);
    const refused = await sh.run("firectl api-key create --scopes models.list,models.fly");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^firectl: unknown scope "models\.fly" in scopes/);
    const network = await sh.run("firectl api-key create --allowed-cidrs 10.0.0.1/8");
    assert.equal(network.code, 1);
    assert.match(network.stderr, /allowedCidrs entry "10\.0\.0\.1\/8": host bits are set/);
    const nothing = await sh.run("firectl api-key update somekey");
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to update/);
  });

  test("api-key create and rotate with -o flag print only --field=value lines (the secret among them); the once-only note goes to stderr", async () => {
    const created = await sh.run("firectl api-key create --service-account agent --key-name flagged --rpm 30 -o flag");
    const lines = ok(created).trim().split("\n");
    assert.ok(
      lines.every((line) => line.startsWith("--")),
      lines.join("\n"),
    );
    const value = (name: string) => lines.find((line) => line.startsWith(`--${name}=`))?.slice(name.length + 3);
    assert.match(value("key") ?? "", /^\S{20,}$/);
    assert.equal(value("rpm"), "30");
    assert.match(created.stderr, /shown only this once/);
    const rotated = await sh.run(`firectl api-key rotate ${value("key-id")} --service-account agent --grace-period 0s -o flag`);
    const rotatedLines = ok(rotated).trim().split("\n");
    assert.ok(
      rotatedLines.every((line) => line.startsWith("--")),
      rotatedLines.join("\n"),
    );
    assert.ok(rotatedLines.some((line) => line.startsWith("--key=")));
    assert.match(rotated.stderr, /keeps working for 0s/);
  });
  test("a refusal by the key's own restrictions is not answered with the role's advice (an admin's key is refused so too)", async () => {
    // An admin service account's key limited to loopback: it creates no human user, and the server's
    // sentence says what to use instead; nothing sends the admin looking for an admin.
    const ci = await serviceAccountWithKey(h, "ci-admin", "admin");
    const limited = await h.call("POST", `/v1/accounts/${h.accountId}/users/ci-admin/apiKeys`, {
      key: ci.key,
      body: { apiKey: { displayName: "ci", allowedCidrs: ["127.0.0.0/8"] } },
    });
    assert.equal(limited.status, 200, JSON.stringify(limited.body));
    const elsewhere = await h.call("POST", `/v1/accounts/${h.accountId}/users/ci-admin/apiKeys`, {
      key: ci.key,
      body: { apiKey: { displayName: "elsewhere", allowedCidrs: ["203.0.113.0/24"] } },
    });
    assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
    try {
      key = limited.body.key;
      const human = await sh.run("firectl user create --user-id ann --email ann@example.com");
      assert.equal(human.code, 1);
      assert.match(human.stderr, /so its sessions would shed the key's allowedCidrs; use an unrestricted key or a console session \(PERMISSION_DENIED\)\n$/);
      assert.doesNotMatch(human.stderr, /needs an admin/);

      key = elsewhere.body.key;
      const outside = await sh.run("firectl user list");
      assert.equal(outside.code, 1);
      assert.match(outside.stderr, /outside the key's allowedCidrs \(PERMISSION_DENIED\); this API key's own scopes or restrictions refuse it/);
      assert.doesNotMatch(outside.stderr, /needs an admin/);

      // A refusal by the role keeps the role's advice.
      const contributor = await serviceAccountWithKey(h, "builder", "contributor");
      key = contributor.key;
      const role = await sh.run("firectl user create --user-id bob --email bob@example.com");
      assert.equal(role.code, 1);
      assert.match(role.stderr, /\(PERMISSION_DENIED\); use the API key of a principal whose role allows this/);
    } finally {
      key = h.adminKey;
    }
  });
});
