import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { Config } from "../config.ts";
import { auditRestore } from "../service/operator-audit.ts";
import { backupSqlite, POSTGRES_GUIDANCE, restoreSqlite } from "../store/backup.ts";
import { LATEST_VERSION, migrate } from "../store/migrations.ts";
import { openStore } from "../store/store.ts";

/**
 * After a restore: brings the restored store to this version's schema and records the restore
 * (`RestoreStore`, principal "operator") in each of its accounts.
 * @returns the migrations applied and the number of accounts the entry was written to.
 */
async function recordRestore(dbPath: string, file: string, version: number): Promise<{ applied: number[]; accounts: number }> {
  const store = await openStore({ sqlitePath: dbPath, migrate: false });
  try {
    const applied = await migrate(store.db, store.dialect);
    return { applied, accounts: await auditRestore(store, resolve(file), version) };
  } finally {
    await store.close();
  }
}

/** `hearth backup FILE` and `hearth restore FILE` (docs/reliability.md, Backup and restore). */
export function backupCommands(program: Command, loadConfig: () => Config): void {
  const sqlitePath = (config: Config): string => {
    // Nothing is written for PostgreSQL: say what to run instead, and exit non-zero.
    if (config.databaseUrl) throw new Error(POSTGRES_GUIDANCE);
    return join(config.dataDir, "hearth.db");
  };

  program
    .command("backup <file>")
    .description("copy the SQLite store to FILE while Hearth keeps running (PostgreSQL: prints the pg_dump command)")
    .option("--force", "replace FILE if it exists")
    .addHelpText("after", "\nExample:\n  hearth backup /backups/hearth-$(date +%F).db")
    .action(async (file: string, opts: { force?: boolean }) => {
      const done = await backupSqlite(sqlitePath(loadConfig()), file, { overwrite: opts.force === true });
      console.log(`backed up the store (schema version ${done.version}, ${done.pages} pages) to ${file}`);
    });

  program
    .command("restore <file>")
    .description(
      "replace the SQLite store with a backup made by hearth backup, bring it to this version's schema and audit the restore in each account (PostgreSQL: prints the pg_restore command)",
    )
    .option("--force", "restore even though a running server has the store open (restart it afterwards)")
    .addHelpText("after", "\nStop hearth serve first, then:\n  hearth restore /backups/hearth-2026-01-31.db\n  hearth serve")
    .action(async (file: string, opts: { force?: boolean }) => {
      const dbPath = sqlitePath(loadConfig());
      const done = await restoreSqlite(dbPath, file, { force: opts.force === true });
      console.log(`restored ${file} (schema version ${done.version}, ${done.pages} pages) into ${dbPath}`);
      const recorded = await recordRestore(dbPath, file, done.version);
      if (recorded.applied.length) console.log(`migrated it to schema version ${LATEST_VERSION} (applied ${recorded.applied.join(", ")})`);
      console.log(`audited as "operator" (RestoreStore) in ${recorded.accounts} account(s)`);
      if (done.wasInUse) console.log("a running server has this store open: restart it so that no key it had cached outlives the restore");
    });
}
