import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS } from "./support/hearth.ts";
import { hearth, processHearth, type ProcessHearth } from "./support/process.ts";

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

for (const dialect of DIALECTS) {
  describe(`the data directory is readable by its owner only (${dialect})`, () => {
    let p: ProcessHearth;
    const files = () =>
      ["secret-key", "admin-api-key", ...(dialect === "sqlite" ? ["hearth.db", "hearth.db-wal", "hearth.db-shm"] : [])].map((name) => join(p.dataDir, name));

    before(async () => {
      p = await processHearth(dialect);
    });
    after(() => p.close());

    async function writeSomething(): Promise<void> {
      const res = await p.call("POST", `/v1/accounts/my-account/users?userId=bot-${Date.now()}`, p.adminKey(), { serviceAccount: true, role: "user" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // A list with a next page signs its page token with the server key.
      const list = await p.call("GET", "/v1/accounts/my-account/users?pageSize=1", p.adminKey());
      assert.equal(list.status, 200);
    }

    test("regression: the data dir is 0700 and hearth.db, -wal, -shm, secret-key and admin-api-key are 0600 after start and after writes", async () => {
      chmodSync(p.dataDir, 0o755); // as an older version or a permissive umask left it
      const server = await p.serve();
      await writeSomething();
      assert.equal(mode(p.dataDir), "0700");
      for (const file of files()) {
        assert.ok(existsSync(file), `${file} exists`);
        assert.equal(mode(file), "0600", file);
      }
      await server.stop();
    });

    test("regression: a data dir whose modes were loosened is tightened at the next start", async () => {
      chmodSync(p.dataDir, 0o755);
      for (const file of files()) if (existsSync(file)) chmodSync(file, 0o644);
      await p.serve();
      await writeSomething();
      assert.equal(mode(p.dataDir), "0700");
      for (const file of files()) if (existsSync(file)) assert.equal(mode(file), "0600", file);
      if (dialect === "sqlite") {
        // A backup is the whole store: written 0600, while the server runs.
        const target = join(mkdtempSync(join(tmpdir(), "hearth-backup-")), "hearth-backup.db");
        const done = await hearth(["backup", target], p.env);
        assert.equal(done.code, 0, done.stderr);
        assert.equal(mode(target), "0600");
        const again = await hearth(["backup", target, "--force"], p.env);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(mode(target), "0600", "a replaced backup too");
      }
    });
  });
}
