import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";
import { field, FIRECTL_LAUNCHER, firectlAt, ok, runProcess } from "./support/run.ts";

const A = "/v1/accounts/my-account";
/** The reproduction: an OSC title change ended by BEL, a colour escape, and a right-to-left override. */
const EVIL = "Corp\u001b]0;pwned\u0007 SSO \u001b[31mred\u202egpj.exe";
const SAFE = "Corp\\u001b]0;pwned\\u0007 SSO \\u001b[31mred\\u202egpj.exe";
/** What a terminal must never receive from firectl: C0 (other than tab and newline), DEL, C1, bidi and other format characters. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]/;

function assertTerminalSafe(text: string, what: string): void {
  assert.equal(UNSAFE.test(text), false, `${what} printed a raw control or bidi character: ${JSON.stringify(text)}`);
}

for (const dialect of DIALECTS) {
  describe(`firectl prints no server-provided control or bidi characters; the server refuses them (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    let firectl: (args: string[]) => ReturnType<typeof runProcess>;
    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { displayName: "Corp SSO", tenantDomains: ["corp.example"] }));
      const sa = await h.call("POST", `${A}/users?userId=bot`, { body: { serviceAccount: true, role: "user", displayName: "bot" } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      // Rows written before the server refused such names (or by anyone with the database): firectl must still print them safely.
      await h.deps.store.db.updateTable("identity_providers").set({ display_name: EVIL }).where("id", "=", "corp").execute();
      await h.deps.store.db.updateTable("users").set({ display_name: EVIL }).where("id", "=", "bot").execute();
      firectl = firectlAt(mkdtempSync(join(tmpdir(), "hearth-firectl-")), h.baseUrl, h.adminKey);
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("regression: ESC/BEL/U+202E in a displayName print as visible escapes in tables, fields and -o json stays exact JSON", async () => {
      const table = ok(await firectl(["identity-provider", "list"]));
      assertTerminalSafe(table, "identity-provider list");
      assert.ok(table.includes(SAFE), table);
      const users = ok(await firectl(["user", "list"]));
      assertTerminalSafe(users, "user list");
      assert.ok(users.includes(SAFE), users);
      const one = ok(await firectl(["identity-provider", "get", "corp"]));
      assertTerminalSafe(one, "identity-provider get");
      assert.equal(field(one, "Display Name"), SAFE);
      const json = ok(await firectl(["identity-provider", "get", "corp", "-o", "json"]));
      assertTerminalSafe(json, "identity-provider get -o json");
      assert.equal(JSON.parse(json).displayName, EVIL, "-o json parses back to the server's exact value");
      const userJson = ok(await firectl(["user", "get", "bot", "-o", "json"]));
      assertTerminalSafe(userJson, "user get -o json");
      assert.equal(JSON.parse(userJson).displayName, EVIL);
    });

    test("regression: firectl signin prints the provider's displayName without ESC/BEL/U+202E", async () => {
      const home = mkdtempSync(join(tmpdir(), "hearth-firectl-"));
      const child = spawn(process.execPath, [FIRECTL_LAUNCHER, "signin", "my-account", "--no-browser"], {
        env: { PATH: process.env.PATH ?? "", HOME: home, FIREWORKS_API_BASE: h.baseUrl },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stderr = "";
      const closed = once(child, "close");
      await new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          if (/paste its address here/.test(stderr)) resolve();
        });
        child.on("close", () => reject(new Error(`firectl exited early: ${stderr}`)));
      });
      child.kill();
      await closed;
      assertTerminalSafe(stderr, "firectl signin");
      assert.ok(stderr.includes(`with ${SAFE} in your browser`), stderr);
    });

    test("regression: an error message echoing an issuer URL with ESC/BEL/U+202E reaches the terminal escaped", async () => {
      // A peer that answers like Hearth with a hostile message (a proxy, an old server, a compromised one).
      const server = createServer((_req, res) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: { code: 400, status: "INVALID_ARGUMENT", message: `issuer "https://evil.example/\u001b]8;;https://x\u0007\u202e" did not answer \u009b2J` },
          }),
        );
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        const run = await firectlAt(mkdtempSync(join(tmpdir(), "hearth-firectl-")), base, "fw_not-a-real-key")(["user", "get", "bot", "-a", "my-account"]);
        assert.equal(run.code, 1);
        assertTerminalSafe(run.stderr, "an API error");
        assert.ok(run.stderr.includes('issuer "https://evil.example/\\u001b]8;;https://x\\u0007\\u202e" did not answer \\u009b2J'), run.stderr);
      } finally {
        server.close();
      }
    });

    test("the server refuses control and bidi characters in display names and URLs with a 400 naming the field", async () => {
      const refused = [
        ["POST", `${A}/users?userId=eve`, { serviceAccount: true, role: "user", displayName: EVIL }, "displayName"],
        ["PATCH", `${A}/users/bot`, { displayName: "bell\u0007" }, "displayName"],
        ["POST", `${A}/users/bot/apiKeys`, { apiKey: { displayName: "rtl\u202ekey" } }, "apiKey.displayName"],
        [
          "POST",
          `${A}/identityProviders?identityProviderId=evil`,
          { displayName: EVIL, oidcConfig: { issuerUrl: issuer.issuer, clientId: "c", clientSecret: "s" } },
          "displayName",
        ],
        [
          "POST",
          `${A}/identityProviders?identityProviderId=evil`,
          { displayName: "ok", oidcConfig: { issuerUrl: `${issuer.issuer}\u001b[2J`, clientId: "c", clientSecret: "s" } },
          "oidcConfig.issuerUrl",
        ],
        ["PATCH", `${A}/identityProviders/corp`, { displayName: "del\u007f" }, "displayName"],
        ["POST", `${A}/models?modelId=m`, { model: { displayName: "csi\u009b31m", backend: "local", upstreamModel: "u" } }, "model.displayName"],
        ["POST", `${A}/models?modelId=m`, { model: { description: "iso\u2066late", backend: "local", upstreamModel: "u" } }, "model.description"],
        ["POST", `${A}/deployments?deploymentId=d`, { displayName: "mark\u200f", baseModel: "accounts/my-account/models/m" }, "displayName"],
        ["POST", `${A}/datasets?datasetId=ds`, { dataset: { displayName: "alm\u061c" } }, "dataset.displayName"],
      ] as const;
      for (const [method, url, body, fieldName] of refused) {
        const res = await h.call(method, url, { body });
        assert.equal(res.status, 400, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.match(
          res.body.error.message,
          new RegExp(
            `field "${fieldName.replace(".", "\\.")}": must not contain control or bidirectional-override characters \\(found U\\+[0-9A-F]{4} at position \\d+\\)`,
          ),
          `${method} ${url}`,
        );
      }
      const fine = await h.call("PATCH", `${A}/users/bot`, { body: { displayName: "Zoë — 東京 — 👩‍👩‍👧" } });
      assert.equal(fine.status, 200, "letters of any script, emoji and their joiners stay allowed");
    });
  });
}
