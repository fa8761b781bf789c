import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { migrate } from "../src/store/migrations.ts";
import { openStore } from "../src/store/store.ts";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { hearth, serve, type Served } from "./support/process.ts";

/**
 * Issue 15: each account keeps the HEARTH_SA_DOMAIN it was created with (an account from before
 * the upgrade takes the value configured then); a start-up with another value warns, naming the
 * account and both domains; new accounts take the configured value.
 */
for (const dialect of DIALECTS) {
  describe(`service-account domains are kept per account (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    let server: Served | undefined;
    const createServiceAccount = async (accountId: string, userId: string, key: string): Promise<string> => {
      const res = await fetch(`${server!.baseUrl}/v1/accounts/${accountId}/users?userId=${userId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ serviceAccount: true }),
      });
      const body = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(body));
      return body.email;
    };

    before(async () => {
      db = await freshDatabase(dialect);
      env = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
      // A store from before domains were recorded, holding one account.
      const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HEARTH_DATA_DIR, migrate: false });
      await migrate(store.db, store.dialect, 10);
      await sql`insert into accounts values ('legacy', 'legacy', 'admin@legacy.example', 'READY', 1, 1)`.execute(store.db);
      await store.close();
    });
    after(async () => {
      await server?.stop();
      await db.drop();
    });

    test("regression: restarted without HEARTH_SA_DOMAIN, an account keeps its domain and the start-up warns; a new account takes the configured one", async () => {
      server = await serve({ ...env, HEARTH_SA_DOMAIN: "sa.fireworks.ai" });
      assert.doesNotMatch(server.output(), /service-account domain/, "no warning while the setting agrees with every account");
      const admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
      assert.equal(await createServiceAccount("my-account", "one", admin), "one@my-account.sa.fireworks.ai");
      assert.equal(await server.stop(), 0);

      server = await serve(env);
      const warningLines = () =>
        server!
          .output()
          .split("\n")
          .filter((line) => line.includes("service-account domain"));
      // The process log is written asynchronously: the lines may follow "Hearth listening".
      for (let i = 0; i < 100 && warningLines().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      const warnings = warningLines();
      assert.equal(warnings.length, 2, server.output());
      for (const account of ["legacy", "my-account"]) {
        const line = warnings.find((w) => w.includes(`account \\"${account}\\"`) || w.includes(`account "${account}"`));
        assert.ok(line, `a warning names ${account}: ${warnings.join("\n")}`);
        assert.match(line, /sa\.fireworks\.ai/, "the account's domain");
        assert.match(line, /HEARTH_SA_DOMAIN=sa\.hearth\.local/, "the configured domain");
      }
      assert.equal(await createServiceAccount("my-account", "two", admin), "two@my-account.sa.fireworks.ai", "not @my-account.sa.hearth.local");

      const acme = await hearth(["account", "create", "acme", "--admin-email", "ops@acme.example"], env);
      assert.equal(acme.code, 0, acme.stderr);
      const acmeKey = /\n\s+(hk_\S+)/.exec(acme.stdout)![1]!;
      assert.equal(await createServiceAccount("acme", "bot", acmeKey), "bot@acme.sa.hearth.local");
    });
  });
}
