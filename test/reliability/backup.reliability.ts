import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase } from "../support/hearth.ts";
import { startUpstream, writePlatformConfig, type FakeUpstream } from "../support/model-server.ts";
import { populate } from "../support/populate.ts";
import { hearth, serve, type Served } from "../support/process.ts";
import { dumpPostgres, dumpSqlite, report, request, rowCount, sleep, type TableDump } from "../support/reliability.ts";

/** `hearth backup` / `hearth restore` round-trip a populated store exactly, compared table by table, row by row. */

function orphans(dump: TableDump): number {
  const users = new Set(dump.users!.map((u) => `${u.account_id}/${u.id}`));
  return dump.api_keys!.filter((k) => !users.has(`${k.account_id}/${k.user_id}`)).length;
}

/**
 * `dump` without the entries `hearth restore` writes after restoring (one `RestoreStore` per
 * account, principal "operator"), after checking that each account has exactly one naming `file`.
 */
function withoutRestoreEntries(dump: TableDump, file: string): TableDump {
  const isRestore = (e: Record<string, unknown>) => e.method === "RestoreStore" && e.principal === "operator";
  const entries = dump.audit_logs!.filter(isRestore);
  assert.deepEqual(entries.map((e) => e.account_id).sort(), dump.accounts!.map((a) => a.id).sort(), "one RestoreStore entry per account");
  for (const e of entries) assert.equal(JSON.parse(String(e.payload)).backupFile, file);
  // Each RestoreStore entry extends its account's hash chain by one: the head is compared by the caller.
  const { audit_chain_heads: _heads, ...rest } = dump;
  return { ...rest, audit_logs: dump.audit_logs!.filter((e) => !isRestore(e)) };
}

/** Each account's chain head (`seq`) in a dump. */
const headSeqs = (dump: TableDump): Record<string, number> => Object.fromEntries((dump.audit_chain_heads ?? []).map((h) => [h.account_id, Number(h.seq)]));

describe("hearth backup and restore (sqlite): online backup API, exact round trip", () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let up: FakeUpstream;
  let env: Record<string, string>;
  let s: Served;
  let admin: string;
  let keys: Record<string, string>;
  const live = () => join(db.dataDir, "hearth.db");

  before(async () => {
    db = await freshDatabase("sqlite");
    up = await startUpstream();
    env = { ...db.env, HEARTH_CONFIG: writePlatformConfig(db.dataDir, up), HEARTH_LOG_LEVEL: "warn", HEARTH_LAST_USED_FLUSH_MS: "50" };
    s = await serve(env);
    admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    keys = (await populate(s.baseUrl, admin)).keys;
  });
  after(async () => {
    await s.stop("SIGKILL");
    await up.close();
    await db.drop();
  });

  test("a backup taken while the server is writing is a consistent store", async () => {
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const id = `churn-${i}`;
        await request(s.baseUrl, "POST", `/v1/accounts/my-account/users?userId=${id}`, { key: admin, body: { serviceAccount: true } });
        await request(s.baseUrl, "POST", `/v1/accounts/my-account/users/${id}/apiKeys`, { key: admin, body: { apiKey: {} } });
        await request(s.baseUrl, "DELETE", `/v1/accounts/my-account/users/${id}`, { key: admin });
        writes += 3;
      }
    })();
    await sleep(300);
    const file = join(db.dataDir, "during-writes.db");
    const done = await hearth(["backup", file], env);
    stop = true;
    await writer;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /backed up the store \(schema version \d+, \d+ pages\)/);
    const copy = dumpSqlite(file);
    assert.equal(orphans(copy), 0, "no key without its owner");
    const created = copy.audit_logs!.filter((e) => e.method === "CreateUser" && e.status_code === 0).map((e) => String(e.resource).split("/").pop());
    const deleted = new Set(copy.audit_logs!.filter((e) => e.method === "DeleteUser" && e.status_code === 0).map((e) => String(e.resource).split("/").pop()));
    const present = new Set(copy.users!.map((u) => u.id));
    for (const id of created) assert.equal(present.has(id), !deleted.has(id), `user ${id} agrees with its audit entries`);
    assert.ok(writes > 0, "writes ran during the backup");
    report("backup and restore", { "writes during online backup": writes });
  });

  test("backup while running, restore after a stop: the store is exactly the backup, row by row", async () => {
    await sleep(300); // pending lastUsed times are written
    const file = join(db.dataDir, "snapshot.db");
    const made = await hearth(["backup", file], env);
    assert.equal(made.code, 0, made.stderr);
    const snapshot = dumpSqlite(file);
    assert.deepEqual(dumpSqlite(live()), snapshot, "the backup equals the running store");
    assert.ok(
      snapshot.deployments!.length > 0 && snapshot.dataset_chunks!.length > 0 && snapshot.identity_providers!.length > 0 && snapshot.usage_daily!.length > 0,
    );

    // Changes after the backup, which the restore must undo.
    const later = await request(s.baseUrl, "POST", "/v1/accounts/my-account/users?userId=after-backup", { key: admin, body: { serviceAccount: true } });
    assert.equal(later.status, 200);
    const laterKey = (await request(s.baseUrl, "POST", "/v1/accounts/my-account/users/after-backup/apiKeys", { key: admin, body: { apiKey: {} } })).body
      .key as string;
    assert.equal((await request(s.baseUrl, "DELETE", "/v1/accounts/my-account/users/p-sa-admin", { key: admin })).status, 200);
    await sleep(200);

    const before = dumpSqlite(live());
    const refused = await hearth(["restore", file], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is open in another process \(a running hearth serve\?\): stop it .* or pass --force/);
    assert.deepEqual(dumpSqlite(live()), before, "a refused restore changes nothing");
    assert.equal(await s.stop("SIGTERM"), 0);

    const restored = await hearth(["restore", file], env);
    assert.equal(restored.code, 0, restored.stderr);
    const restoredDump = dumpSqlite(live());
    const after = withoutRestoreEntries(restoredDump, file);
    const { audit_chain_heads: _snapshotHeads, ...snapshotRows } = snapshot;
    assert.deepEqual(after, snapshotRows, "every table, every row (besides the restore's own audit entries)");
    const heads = headSeqs(snapshot);
    assert.deepEqual(
      headSeqs(restoredDump),
      Object.fromEntries(Object.entries(heads).map(([a, seq]) => [a, seq + 1])),
      "each chain grew by its RestoreStore entry",
    );

    s = await serve(env);
    assert.equal((await request(s.baseUrl, "GET", "/verifyApiKey", { key: laterKey })).status, 401, "a key made after the backup is gone");
    assert.equal((await request(s.baseUrl, "GET", "/verifyApiKey", { key: keys["p-sa-admin"] })).status, 200, "a key deleted after the backup is back");
    const users = await request(s.baseUrl, "GET", "/v1/accounts/my-account/users?pageSize=200", { key: admin });
    assert.ok(!users.body.users.some((u: any) => u.name.endsWith("/after-backup")));
    report("backup and restore", { "sqlite tables compared": Object.keys(snapshot).length, "sqlite rows compared": rowCount(snapshot) * 2 });
  });

  test("restore --force restores under a running server, which sees the backup at once", async () => {
    const file = join(db.dataDir, "snapshot.db");
    const created = await request(s.baseUrl, "POST", "/v1/accounts/my-account/users?userId=forced-away", { key: admin, body: { serviceAccount: true } });
    assert.equal(created.status, 200);
    const forced = await hearth(["restore", "--force", file], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /restart it so that no key it had cached outlives the restore/);
    const { audit_chain_heads: _fileHeads, ...fileRows } = dumpSqlite(file);
    assert.deepEqual(withoutRestoreEntries(dumpSqlite(live()), file), fileRows);
    // Compared first: the refused read below is itself an audit entry in the live store.
    assert.equal((await request(s.baseUrl, "GET", "/v1/accounts/my-account/users/forced-away", { key: admin })).status, 404);
  });

  test("what is not a whole Hearth store is refused, and a backup never overwrites by accident", async () => {
    const garbage = join(db.dataDir, "garbage.db");
    writeFileSync(garbage, "this is not a database, just text that is long enough to have a header ".repeat(100));
    const notDb = await hearth(["restore", garbage], env);
    assert.equal(notDb.code, 1);
    assert.match(notDb.stderr, /garbage\.db (is not a SQLite database|cannot be read as a Hearth store|is damaged)/);
    const missing = await hearth(["restore", join(db.dataDir, "nope.db")], env);
    assert.match(missing.stderr, /nope\.db does not exist/);
    const empty = join(db.dataDir, "empty.db");
    spawnSync(process.execPath, ["-e", `new (require("node:sqlite").DatabaseSync)(${JSON.stringify(empty)}).exec("create table t(x)")`]);
    const notHearth = await hearth(["restore", empty], env);
    assert.match(notHearth.stderr, /is not a Hearth store \(it has no schema_migrations table\)/);
    const again = await hearth(["backup", join(db.dataDir, "snapshot.db")], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: choose another name or pass --force/);
    assert.ok(!existsSync(join(db.dataDir, "snapshot.db.partial")));
  });
});

if (DIALECTS.includes("postgres")) {
  describe("hearth backup and restore (postgres): the documented pg_dump / pg_restore procedure", () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let target: Awaited<ReturnType<typeof freshDatabase>>;
    let up: FakeUpstream;
    let env: Record<string, string>;
    let s: Served;
    let guidance = "";

    before(async () => {
      db = await freshDatabase("postgres");
      target = await freshDatabase("postgres");
      up = await startUpstream();
      env = { ...db.env, HEARTH_CONFIG: writePlatformConfig(db.dataDir, up), HEARTH_LOG_LEVEL: "warn", HEARTH_LAST_USED_FLUSH_MS: "50" };
      s = await serve(env);
      await populate(s.baseUrl, readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim());
      await sleep(300);
    });
    after(async () => {
      await s.stop("SIGKILL");
      await up.close();
      await db.drop();
      await target.drop();
    });

    test("hearth backup and restore print the procedure, write nothing and exit non-zero", async () => {
      const file = join(db.dataDir, "nothing.dump");
      for (const command of ["backup", "restore"]) {
        const res = await hearth([command, file], env);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /the store is PostgreSQL/);
        assert.match(res.stderr, /pg_dump --format=custom/);
        assert.match(res.stderr, /pg_restore --clean --if-exists/);
        assert.ok(!res.stderr.includes(env.DATABASE_URL!), "the database URL (and any password in it) is not printed");
        guidance = res.stderr;
      }
      assert.ok(!existsSync(file));
    });

    test(
      "the printed commands round-trip a populated store exactly, row by row",
      { skip: spawnSync("pg_dump", ["--version"]).status !== 0 && "pg_dump is not installed" },
      async () => {
        const file = join(db.dataDir, "hearth.dump");
        const run = (tool: string, url: string) => {
          const line = guidance
            .split("\n")
            .map((l) => l.trim())
            .find((l) => l.startsWith(tool))!;
          const args = line
            .split(/\s+/)
            .slice(1)
            .map((a) => a.replace('"$DATABASE_URL"', url).replace("hearth.dump", file));
          const res = spawnSync(tool, args, { encoding: "utf8" });
          assert.equal(res.status, 0, `${tool}: ${res.stderr}`);
        };
        run("pg_dump", env.DATABASE_URL!);
        await s.stop("SIGTERM");
        const source = await dumpPostgres(env.DATABASE_URL!);
        run("pg_restore", target.env.DATABASE_URL!);
        assert.deepEqual(await dumpPostgres(target.env.DATABASE_URL!), source, "into an empty database");
        s = await serve(env);
        assert.equal(
          (
            await request(s.baseUrl, "POST", "/v1/accounts/my-account/users?userId=after-dump", {
              key: readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim(),
              body: { serviceAccount: true },
            })
          ).status,
          200,
        );
        await s.stop("SIGTERM");
        run("pg_restore", env.DATABASE_URL!);
        assert.deepEqual(await dumpPostgres(env.DATABASE_URL!), source, "over the same database, undoing later changes");
        s = await serve(env);
        report("backup and restore", { "postgres tables compared": Object.keys(source).length, "postgres rows compared": rowCount(source) * 2 });
      },
    );
  });
}
