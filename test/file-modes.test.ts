import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";
import { hearth, serve, type Served } from "./support/process.ts";

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

for (const dialect of DIALECTS) {
  describe(`the data directory is readable by its owner only (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    let server: Served | undefined;
    const files = () =>
      ["secret-key", "admin-api-key", ...(dialect === "sqlite" ? ["hearth.db", "hearth.db-wal", "hearth.db-shm"] : [])].map((name) => join(db.dataDir, name));

    before(async () => {
      db = await freshDatabase(dialect);
      env = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
    });
    after(async () => {
      await server?.stop();
      await db.drop();
    });

    async function writeSomething(): Promise<void> {
      const key = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
      const res = await fetch(`${server!.baseUrl}/v1/accounts/my-account/users?userId=bot-${Date.now()}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ serviceAccount: true, role: "user" }),
      });
      assert.equal(res.status, 200, await res.text());
      // A list with a next page signs its page token with the server key.
      const list = await fetch(`${server!.baseUrl}/v1/accounts/my-account/users?pageSize=1`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(list.status, 200);
    }

    test("regression: the data dir is 0700 and hearth.db, -wal, -shm, secret-key and admin-api-key are 0600 after start and after writes", async () => {
      chmodSync(db.dataDir, 0o755); // as an older version or a permissive umask left it
      server = await serve(env);
      await writeSomething();
      assert.equal(mode(db.dataDir), "0700");
      for (const file of files()) {
        assert.ok(existsSync(file), `${file} exists`);
        assert.equal(mode(file), "0600", file);
      }
      await server.stop();
      server = undefined;
    });

    test("regression: a data dir whose modes were loosened is tightened at the next start", async () => {
      chmodSync(db.dataDir, 0o755);
      for (const file of files()) if (existsSync(file)) chmodSync(file, 0o644);
      server = await serve(env);
      await writeSomething();
      assert.equal(mode(db.dataDir), "0700");
      for (const file of files()) if (existsSync(file)) assert.equal(mode(file), "0600", file);
      if (dialect === "sqlite") {
        // A backup is the whole store: written 0600, while the server runs.
        const target = join(mkdtempSync(join(tmpdir(), "hearth-backup-")), "hearth-backup.db");
        const done = await hearth(["backup", target], env);
        assert.equal(done.code, 0, done.stderr);
        assert.equal(mode(target), "0600");
        const again = await hearth(["backup", target, "--force"], env);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(mode(target), "0600", "a replaced backup too");
      }
    });
  });
}
