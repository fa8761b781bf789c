import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { firectlAt, type Run } from "./support/run.ts";

/**
 * `firectl identity-provider …` end to end: the real launcher in a child process against a real
 * listening Hearth. The CLI is a client of the REST API, so one store dialect is enough here; the
 * API itself is tested on both in identity-providers.test.ts.
 */
const SECRET = "cli-client-secret-9d2f4e";

describe("firectl identity-provider", () => {
  let h: TestHearth;
  let home: string;

  const firectl = (args: string[]): Promise<Run> => firectlAt(home, h.baseUrl, h.adminKey)(args);

  before(async () => {
    home = mkdtempSync(join(tmpdir(), "firectl-idp-"));
    h = await startHearth("sqlite");
    await h.listen();
  });
  after(async () => {
    await h.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test("create, list, get, update and delete an OIDC provider; the client secret is never printed", async () => {
    const created = await firectl([
      "identity-provider",
      "create",
      "--identity-provider-id",
      "corp",
      "--display-name=Corp OIDC",
      "--oidc-issuer=https://auth.corp.example",
      "--oidc-client-id=abc123",
      `--oidc-client-secret=${SECRET}`,
      "--tenant-domains=corp.example, corp.co.uk",
      "--enable-jit-user-provisioning",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Name:\s+accounts\/my-account\/identityProviders\/corp$/m);
    assert.match(created.stdout, /^OIDC Issuer:\s+https:\/\/auth\.corp\.example$/m);
    assert.match(created.stdout, /^Tenant Domains:\s+corp\.example, corp\.co\.uk$/m);
    assert.match(created.stdout, /^JIT Provisioning:\s+yes$/m);
    assert.match(created.stdout, /^JIT Default Role:\s+inference-user$/m);
    assert.match(created.stderr, /never shown again/);

    const listed = await firectl(["identity-provider", "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+DISPLAY NAME\s+ISSUER/);
    assert.match(listed.stdout, /^corp\s+Corp OIDC\s+https:\/\/auth\.corp\.example\s+abc123\s+yes\s+no$/m);

    const json = await firectl(["get", "identity-provider", "accounts/my-account/identityProviders/corp", "-o", "json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).oidcConfig, { issuerUrl: "https://auth.corp.example", clientId: "abc123" });

    const enforced = await firectl(["identity-provider", "update", "corp", "--enforce-sso"]);
    assert.match(enforced.stdout, /^Enforce SSO:\s+yes$/m);
    const relaxed = await firectl(["identity-provider", "update", "corp", "--enforce-sso=false", "--jit-default-role", "contributor"]);
    assert.match(relaxed.stdout, /^Enforce SSO:\s+no$/m);
    assert.match(relaxed.stdout, /^JIT Default Role:\s+contributor$/m);
    assert.match(relaxed.stdout, /^OIDC Issuer:\s+https:\/\/auth\.corp\.example$/m, "flags not given keep their values");
    assert.match(relaxed.stdout, /^Trust Email Without Verified Claim:\s+no$/m, "default: only email_verified true is trusted");
    const trusting = await firectl(["identity-provider", "update", "corp", "--trust-email-without-verified-claim"]);
    assert.equal(trusting.code, 0, trusting.stderr);
    assert.match(trusting.stdout, /^Trust Email Without Verified Claim:\s+yes$/m);

    const dry = await firectl(["identity-provider", "update", "corp", `--oidc-client-secret=${SECRET}-2`, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^PATCH .*\/identityProviders\/corp$/m);
    assert.match(dry.stdout, /\[REDACTED\]/);

    const deleted = await firectl(["identity-provider", "delete", "corp"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, "Deleted identity provider accounts/my-account/identityProviders/corp.\n");
    assert.equal((await firectl(["identity-provider", "get", "corp"])).code, 1);

    for (const out of [created, listed, json, enforced, relaxed, dry, deleted]) {
      assert.equal(`${out.stdout}${out.stderr}`.includes(SECRET), false);
    }
  });

  test("usage mistakes are one sentence and exit code 2", async () => {
    const saml = await firectl(["identity-provider", "create", "--display-name=X", "--saml-metadata-url=https://x.example/md"]);
    assert.equal(saml.code, 2);
    assert.match(saml.stderr, /^firectl: Hearth supports OIDC identity providers only/);
    const missing = await firectl(["identity-provider", "create", "--display-name=X"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--oidc-issuer and --oidc-client-id are required/);
    const nothing = await firectl(["identity-provider", "update", "corp"]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to update/);
    const badRole = await firectl(["identity-provider", "update", "corp", "--jit-default-role", "boss"]);
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /invalid --jit-default-role 'boss'/);
    const badBool = await firectl(["identity-provider", "update", "corp", "--enforce-sso=maybe"]);
    assert.equal(badBool.code, 2);
  });
});
