import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase } from "../support/hearth.ts";
import { startUpstream, writePlatformConfig, type FakeUpstream } from "../support/model-server.ts";
import { mistyped } from "../support/fixtures.ts";
import { populate } from "../support/populate.ts";
import { hearth, serve, type Served } from "../support/process.ts";
import { dumpPostgres, report, request, sleep } from "../support/reliability.ts";

/**
 * Secrets: a full run of a real `hearth serve` (debug logging) plants API keys, sign-in link
 * tokens, session ids, identity-provider client secrets and the server's sealing key, uses them
 * rightly and wrongly, then searches everything an attacker or an operator could read: the
 * server's output, every audit entry, every error message, every response, and the store itself
 * (the SQLite files byte by byte, every PostgreSQL row). None may hold a secret in plaintext.
 */
for (const dialect of DIALECTS) {
  describe(`no secret in logs, audit payloads, errors or the store (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let up: FakeUpstream;
    let env: Record<string, string>;
    let s: Served;
    const secrets = new Map<string, string>();
    const responses: string[] = [];
    const pages: Array<{ what: string; headers: Headers; secret: boolean }> = [];
    let serverOutput = "";

    const plant = (what: string, value: string) => {
      assert.ok(value && value.length >= 16, `${what} looks like a secret`);
      secrets.set(value, what);
    };
    /** Every response is kept: an error message must not echo a secret either. */
    const send = async (method: string, path: string, options: Parameters<typeof request>[3] = {}) => {
      const res = await request(s.baseUrl, method, path, options);
      responses.push(`${res.status} ${typeof res.body === "string" ? res.body : JSON.stringify(res.body)}`);
      return res;
    };

    before(async () => {
      db = await freshDatabase(dialect);
      up = await startUpstream();
      const sealingKey = randomBytes(32).toString("hex");
      env = {
        ...db.env,
        HEARTH_CONFIG: writePlatformConfig(db.dataDir, up),
        HEARTH_LOG_LEVEL: "debug",
        HEARTH_SECRET_KEY: sealingKey,
        HEARTH_LAST_USED_FLUSH_MS: "50",
        HEARTH_AUTH_FAILURES_SLOW: "1000000",
        HEARTH_AUTH_FAILURES_BLOCK: "1000000",
      };
      plant("the server's sealing key", sealingKey);
      s = await serve(env);
    });
    after(async () => {
      await s.stop("SIGKILL");
      await up.close();
      await db.drop();
    });

    test("a full run plants and uses every kind of secret", async () => {
      const admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
      plant("the bootstrap admin key", admin);
      const made = await populate(s.baseUrl, admin);
      for (const [who, key] of Object.entries(made.keys)) plant(`API key of ${who}`, key);
      plant("an identity provider's client secret", made.idpSecret);
      const A = "/v1/accounts/my-account";

      // Sign-in links and sessions: made by the operator, redeemed in a "browser".
      await send("POST", `${A}/users`, { key: admin, body: { email: "carol@corp.example", role: "user" } });
      for (let i = 0; i < 2; i++) {
        const link = await hearth(["signin-link", "carol@corp.example"], env);
        assert.equal(link.code, 0, link.stderr);
        const url = new URL(/(http\S+\/auth\/link\/\S+)/.exec(link.stdout)![1]!);
        const token = url.pathname.split("/").pop()!;
        plant("a sign-in link token", token);
        const redeemed = await fetch(`${s.baseUrl}${url.pathname}?next=/account/users`, { redirect: "manual" });
        assert.equal(redeemed.status, 302);
        pages.push({ what: "sign-in link redirect", headers: redeemed.headers, secret: true });
        const cookie = redeemed.headers.get("set-cookie")!.split(";")[0]!;
        plant("a session id", cookie.split("=")[1]!);
        const session = await send("GET", "/auth/session", { headers: { cookie } });
        pages.push({ what: "GET /auth/session", headers: session.headers, secret: true });
        // The one response that returns a key's secret, by design: not kept among the scanned ones.
        await request(s.baseUrl, "POST", `${A}/users/carol-corp-example/apiKeys`, {
          headers: { cookie, "x-csrf-token": session.body.csrfToken },
          body: { apiKey: {} },
        }).then((r) => {
          assert.equal(r.status, 200);
          plant("a key made in a session", r.body.key);
          pages.push({ what: "a new key's response", headers: r.headers, secret: true });
        });
        // Misuse: the link again, the cookie without CSRF proof, the token where a key goes.
        await send("GET", url.pathname);
        await send("POST", `${A}/users/carol-corp-example/apiKeys`, { headers: { cookie }, body: { apiKey: {} } });
        await send("GET", `${A}/users`, { key: token });
        await send("POST", "/auth/signout", { headers: { cookie, "x-csrf-token": session.body.csrfToken } });
        await send("GET", "/auth/session", { headers: { cookie } });
      }

      // Keys used rightly, then wrongly: mistyped, in the query string, in odd headers, as a body value.
      for (const [value] of [...secrets].filter(([, what]) => what.startsWith("API key") || what.startsWith("a key") || what.startsWith("the bootstrap"))) {
        await send("GET", "/verifyApiKey", { key: value });
        await send("GET", `${A}/users`, { key: mistyped(value) });
        await send("GET", `${A}/users?key=${value}&api_key=${value}&pageToken=${value}&filter=${encodeURIComponent(`email="${value}"`)}`, { key: admin });
        await send("GET", `${A}/users`, { headers: { "x-api-key": value, authorization: `Basic ${value}` } });
        await send("GET", `${A}/users`, { headers: { authorization: `Bearer ${value} extra` } });
        await send("POST", `${A}/users/p-sa-user/apiKeys:delete`, { key: admin, body: { keyId: value } });
        await send("GET", `/auth/link/${value}`);
      }
      await send("PATCH", `${A}/identityProviders/p-corp`, { key: admin, body: { oidcConfig: { clientSecret: made.idpSecret, issuerUrl: "not a url" } } });
      await send("GET", "/auth/oidc/my-account/p-corp/start");
      await send("GET", `${A}/auditLogs?pageSize=200`, { key: admin });
      const idps = await send("GET", `${A}/identityProviders`, { key: admin });
      assert.equal(idps.status, 200);
      await send("GET", `${A}/users/-/apiKeys?pageSize=200`, { key: admin });
      await sleep(200);
      assert.equal(await s.stop("SIGTERM"), 0);
      serverOutput = s.output();
      s = await serve(env);
      serverOutput += s.output();
      report(`secrets (${dialect})`, { "secrets planted": secrets.size, "responses kept": responses.length });
    });

    /** Where any secret occurs in `text`, by name. */
    const leaks = (text: string) => [...secrets].filter(([value]) => text.includes(value)).map(([, what]) => what);

    test("the server's output holds no secret (beyond the first start's documented hand-over of the admin key)", () => {
      const lines = serverOutput.split("\n");
      // First start prints the admin key and a one-time link once, by design; nothing else may.
      const handOver = new Set(lines.flatMap((l, i) => (/Admin API key|One-time web sign-in link/.test(l) ? [i, i + 1] : [])));
      const scanned = lines.filter((_, i) => !handOver.has(i));
      assert.ok(
        scanned.some((l) => l.includes('"msg":"request"')),
        "requests were logged",
      );
      assert.deepEqual(leaks(scanned.join("\n")), []);
      report(`secrets (${dialect})`, { "log lines scanned": scanned.length });
    });

    test("no response, error message included, echoes a secret it was not created to return", () => {
      // A key's secret is returned once, by the call that creates it; those responses are not kept here.
      assert.deepEqual(leaks(responses.join("\n")), []);
      report(`secrets (${dialect})`, { "responses scanned": responses.length });
    });

    test("the store holds no secret in plaintext, audit payloads included", async () => {
      let scannedRows = 0;
      let scannedBytes = 0;
      let auditEntries = 0;
      if (dialect === "sqlite") {
        await s.stop("SIGTERM");
        let all = "";
        for (const file of readdirSync(db.dataDir)) {
          if (file === "admin-api-key" || file === "platform.json") continue; // the documented hand-over; the operator's config
          const bytes = readFileSync(join(db.dataDir, file));
          scannedBytes += bytes.length;
          assert.deepEqual(leaks(bytes.toString("latin1")), [], `${file} holds a secret`);
          all += bytes.toString("latin1");
        }
        assert.ok(all.includes("carol@corp.example"), "the scan does see the data");
        const raw = new DatabaseSync(join(db.dataDir, "hearth.db"), { readOnly: true });
        auditEntries = Number((raw.prepare("select count(*) as n from audit_logs").get() as { n: number }).n);
        scannedRows = Number(
          (
            raw
              .prepare(
                "select (select count(*) from users) + (select count(*) from api_keys) + (select count(*) from audit_logs) + (select count(*) from sessions) + (select count(*) from signin_links) + (select count(*) from identity_providers) as n",
              )
              .get() as { n: number }
          ).n,
        );
        raw.close();
        s = await serve(env);
      } else {
        const dump = await dumpPostgres(env.DATABASE_URL!);
        const text = JSON.stringify(dump);
        scannedBytes = text.length;
        scannedRows = Object.values(dump).reduce((n, rows) => n + rows.length, 0);
        auditEntries = dump.audit_logs!.length;
        assert.ok(text.includes("carol@corp.example"), "the scan does see the data");
        assert.deepEqual(leaks(text), []);
      }
      assert.ok(auditEntries > 20, `${auditEntries} audit entries`);
      report(`secrets (${dialect})`, {
        "store rows scanned": scannedRows,
        "store bytes scanned": scannedBytes,
        "audit entries scanned": auditEntries,
        "secrets found": 0,
      });
    });

    test("responses set a content security policy, nosniff and frame denial; those carrying secrets are never cached", async () => {
      const console = await fetch(`${s.baseUrl}/`);
      const isPage = console.status === 200 && (console.headers.get("content-type") ?? "").startsWith("text/html");
      if (isPage) pages.push({ what: "the console page", headers: console.headers, secret: true });
      for (const path of ["/healthz", "/openapi.json", "/v1/nothing", "/verifyApiKey"]) {
        const res = await fetch(`${s.baseUrl}${path}`);
        pages.push({ what: `GET ${path} (${res.status})`, headers: res.headers, secret: path === "/verifyApiKey" });
      }
      for (const page of pages) {
        const h = page.headers;
        assert.match(h.get("content-security-policy") ?? "", /default-src 'none'/, `${page.what}: CSP`);
        assert.equal(h.get("x-content-type-options"), "nosniff", `${page.what}: nosniff`);
        assert.ok(
          h.get("x-frame-options") === "DENY" || /frame-ancestors 'none'/.test(h.get("content-security-policy") ?? ""),
          `${page.what}: frame protection`,
        );
        if (page.secret) assert.match(h.get("cache-control") ?? "", /no-store/, `${page.what}: not cached`);
      }
      report(`secrets (${dialect})`, { "responses whose security headers were checked": pages.length, "console page checked": isPage ? 1 : 0 });
    });
  });
}
