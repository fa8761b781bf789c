import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freshDatabase } from "./support/hearth.ts";
import { hearth } from "./support/process.ts";

/**
 * `hearth backup FILE` copied the whole store beside FILE and only then found, when renaming, that
 * FILE could not be written: `hearth backup ""` said `ENOENT: no such file or directory, rename
 * '.partial' -> ''`, a directory with --force `EISDIR: illegal operation on a directory, rename …`
 * (found by fuzzing the operator CLI). Such a target is now refused first, in a sentence naming it;
 * so is `hearth restore` of no file or of a directory. (SQLite only: on PostgreSQL both print
 * PostgreSQL's procedure.)
 */
describe("hearth backup and restore refuse a target no file can be written at or read from, before copying (sqlite)", () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  before(async () => {
    db = await freshDatabase("sqlite");
    const migrated = await hearth(["migrate"], db.env);
    assert.equal(migrated.code, 0, migrated.stderr);
    dir = join(db.dataDir, "backups");
    mkdirSync(dir);
    writeFileSync(join(dir, "a-file"), "");
  });
  after(() => db.drop());

  test("regression: backup to no name, to a directory (even with --force) or under a missing directory exits 1 naming it, writing nothing", async () => {
    for (const [args, message] of [
      [["backup", ""], /^hearth: give the file to write the backup to/],
      [["backup", dir, "--force"], /^hearth: .*backups is a directory: give the backup file's name inside it/],
      [["backup", join(dir, "missing", "x.db")], /^hearth: cannot write .*x\.db: .*missing is not an existing directory/],
      [["backup", join(dir, "a-file", "x.db")], /^hearth: cannot write .*x\.db: .*a-file is not an existing directory/],
    ] as const) {
      const run = await hearth([...args], db.env);
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
      assert.doesNotMatch(run.stderr, /\bE[A-Z]+: /, "no system error code");
    }
    assert.deepEqual(readdirSync(dir), ["a-file"], "nothing written beside the targets");
    const done = await hearth(["backup", join(dir, "hearth.db")], db.env);
    assert.equal(done.code, 0, done.stderr);
  });

  test("regression: restore of no name or of a directory exits 1 naming it", async () => {
    const empty = await hearth(["restore", ""], db.env);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^hearth: give the backup file to restore/);
    const directory = await hearth(["restore", dir], db.env);
    assert.equal(directory.code, 1);
    assert.match(directory.stderr, /^hearth: .*backups is a directory, not a backup file/);
  });
});
