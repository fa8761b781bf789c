import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { openStore } from "../src/store/store.ts";
import { startHearth } from "./support/hearth.ts";
import { until } from "./support/until.ts";

/**
 * Service accounts in the database file alone, without its write-ahead log: what checkpoints have
 * copied there (0 while not even the schema has been).
 */
function inDatabaseFile(dataDir: string): number {
  const scratch = mkdtempSync(join(tmpdir(), "hearth-ckpt-"));
  try {
    copyFileSync(join(dataDir, "hearth.db"), join(scratch, "copy.db"));
    const db = new DatabaseSync(join(scratch, "copy.db"), { readOnly: true });
    try {
      return Number((db.prepare("select count(*) as n from users where service_account = 1").get() as { n: number }).n);
    } catch {
      return 0;
    } finally {
      db.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

test("a serving SQLite store checkpoints on its worker: committed changes reach the database file within a second, and stopping leaves no log behind", async () => {
  const h = await startHearth("sqlite");
  const dataDir = h.dataDir;
  try {
    const A = `/v1/accounts/${h.accountId}`;
    for (let i = 0; i < 20; i++) assert.equal((await h.call("POST", `${A}/users?userId=ckpt-${i}`, { body: { serviceAccount: true } })).status, 200);
    // Twenty small changes are far from SQLite's own 1,000-page threshold: only the worker copies them.
    // It does so every 200 ms; the wait allows far more, as a loaded machine may delay the worker,
    // and a copy taken while a checkpoint writes may be torn (it then reads as 0 and is taken again).
    await until("the 20 service accounts in the database file", async () => (inDatabaseFile(dataDir) === 20 ? true : undefined));
    await h.deps.store.close();
    assert.equal(existsSync(join(dataDir, "hearth.db-wal")), false, "the last connection to close checkpoints and removes the log");
    const reopened = await openStore({ dataDir, migrate: false });
    try {
      const n = await reopened.db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("service_account", "=", 1)
        .executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 20);
    } finally {
      await reopened.close();
    }
  } finally {
    await h.stop().catch(() => undefined);
  }
});

test("a store opened without background checkpoints (the CLI's) leaves checkpoints to SQLite: a new store's schema stays in the log until it closes", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-ckpt-"));
  try {
    const store = await openStore({ dataDir });
    await new Promise((r) => setTimeout(r, 500));
    const copy = join(dataDir, "copy.db");
    copyFileSync(join(dataDir, "hearth.db"), copy);
    const db = new DatabaseSync(copy, { readOnly: true });
    const rows = db.prepare("select count(*) as n from sqlite_master where name = 'accounts'").get() as { n: number };
    db.close();
    assert.equal(Number(rows.n), 0, "nothing checkpointed yet: the schema is still in the log");
    await store.close();
    assert.equal(existsSync(join(dataDir, "hearth.db-wal")), false);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a checkpoint worker that fails to start hands checkpoints back; the store still closes and nothing is left unhandled", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-ckpt-"));
  const moved = `${dataDir}-moved`;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const store = await openStore({ dataDir, migrate: false, checkpointInBackground: true });
    // The store's file moves before its worker opens it (an operator moving the data directory, a
    // full disk, a worker that cannot load): the worker throws at start.
    renameSync(dataDir, moved);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(unhandled.map(String), [], "a failed worker must not leave an unhandled rejection (it would end a serving process)");
    await store.close();
  } finally {
    process.off("unhandledRejection", onUnhandled);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(moved, { recursive: true, force: true });
  }
});
