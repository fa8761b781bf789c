import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SERVICE_ACCOUNT_SIGN_IN } from "../src/domain/sign-in.ts";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { hearth, serve } from "./support/process.ts";

/** Visits a link like a browser would on its first hop; returns the status and whether a session cookie came back. */
async function visit(url: string): Promise<{ status: number; cookie: string | undefined; location: string | null }> {
  const res = await fetch(url, { redirect: "manual" });
  await res.arrayBuffer();
  return {
    status: res.status,
    cookie: res.headers.getSetCookie().find((c) => c.startsWith("hearth_session=")),
    location: res.headers.get("location"),
  };
}

for (const dialect of DIALECTS) {
  describe(`sign-in links from the operator (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    before(async () => {
      db = await freshDatabase(dialect);
      env = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
    });
    after(() => db.drop());

    test("first start prints a one-time sign-in link for the admin, written to no file; it works once", async () => {
      const s = await serve(env);
      try {
        const match = /One-time web sign-in link for admin@example\.com.*\n\s+(http\S+)/.exec(s.output());
        assert.ok(match, s.output());
        const link = match[1]!;
        assert.ok(link.startsWith(`${s.baseUrl}/auth/link/`), link);
        const token = link.split("/").pop()!;
        for (const file of readdirSync(db.dataDir)) {
          assert.equal(readFileSync(join(db.dataDir, file)).includes(token), false, `${file} holds the link`);
        }
        const first = await visit(link);
        assert.equal(first.status, 302);
        assert.equal(first.location, "/");
        assert.ok(first.cookie);
        const who = await fetch(`${s.baseUrl}/auth/session`, { headers: { cookie: first.cookie!.split(";")[0]! } });
        assert.equal(((await who.json()) as any).email, "admin@example.com");
        const second = await visit(link);
        assert.equal(second.status, 401);
        assert.equal(second.cookie, undefined);
      } finally {
        assert.equal(await s.stop(), 0);
      }
      const again = await serve(env);
      assert.ok(!again.output().includes("sign-in link"), "a restart prints no new link");
      await again.stop();
    });

    test("hearth signin-link prints a link for a human and refuses a service account with the sentence", async () => {
      const s = await serve(env);
      try {
        const adminKey = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
        const sa = await fetch(`${s.baseUrl}/v1/accounts/my-account/users?userId=deploy-bot`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ serviceAccount: true }),
        });
        assert.equal(sa.status, 200);

        const made = await hearth(["signin-link", "admin@example.com", "--account", "my-account"], { ...env, HEARTH_PUBLIC_URL: s.baseUrl });
        assert.equal(made.code, 0, made.stderr);
        const link = /\n\s+(http\S+)/.exec(made.stdout)?.[1];
        assert.ok(link?.startsWith(`${s.baseUrl}/auth/link/`), made.stdout);
        assert.equal((await visit(link!)).status, 302);
        assert.equal((await visit(link!)).status, 401);

        const refused = await hearth(["signin-link", "deploy-bot@my-account.sa.hearth.local", "--account", "my-account"], env);
        assert.equal(refused.code, 1);
        assert.equal(refused.stderr.trim(), `hearth: ${SERVICE_ACCOUNT_SIGN_IN}`);
        assert.equal(refused.stdout, "");
        const audit = await fetch(`${s.baseUrl}/v1/accounts/my-account/auditLogs?filter=${encodeURIComponent('message="SignIn"')}`, {
          headers: { authorization: `Bearer ${adminKey}` },
        });
        const [entry] = ((await audit.json()) as any).auditLogs;
        assert.equal(entry.principal, "deploy-bot@my-account.sa.hearth.local");
        assert.equal(entry.status.code, "PERMISSION_DENIED");

        const stranger = await hearth(["signin-link", "nobody@example.com", "--account", "my-account"], env);
        assert.equal(stranger.code, 1);
        assert.match(stranger.stderr, /no user with email "nobody@example.com"/);
      } finally {
        await s.stop();
      }
    });
  });
}
