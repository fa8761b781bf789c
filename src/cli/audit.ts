import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import type { Command } from "commander";
import type { Config } from "../config.ts";
import { publicKeyMap } from "../domain/audit-chain.ts";
import { verifyExport, type VerifyReport } from "../domain/audit-export.ts";
import { notFound } from "../domain/errors.ts";
import { parseTimestamp } from "../domain/time.ts";
import { rotateAuditSigningKey } from "../service/audit-signing.ts";
import { verifyAccountChain } from "../service/audit-verify.ts";
import { getAccount } from "../store/accounts.ts";
import { openStore, type Store } from "../store/store.ts";

/**
 * The lines of a file, split at line feeds only: readline also ends a line at U+2028 and U+2029,
 * which a JSON string may hold (an audited request may carry them), and would cut such a line in two.
 */
async function* linesOf(file: string): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8" })) {
    const parts = (rest + (chunk as string)).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

/**
 * `file` when it is a file that can be read; otherwise an error naming `option` and why, rather than
 * the system's (`EISDIR: illegal operation on a directory, read`).
 */
function readableFile(option: string, file: string): string {
  if (!existsSync(file)) throw new Error(`${option} ${file}: no such file`);
  if (!statSync(file).isFile()) throw new Error(`${option} ${file}: not a file`);
  return file;
}

/** Public keys from a file: the JSON of `/.well-known/hearth-audit-keys` (`{"keys": [...]}`) or one JWK. */
function keysFromFile(file: string) {
  let json: { keys?: { kid: string; x: string }[]; kid?: string; x?: string };
  try {
    json = JSON.parse(readFileSync(readableFile("--public-key", file), "utf8")) as typeof json;
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`--public-key ${file}: not JSON (${error.message}): give the JSON of /.well-known/hearth-audit-keys`);
    throw error;
  }
  return publicKeyMap(json.keys ?? [{ kid: json.kid ?? "", x: json.x ?? "" }]);
}

function print(report: VerifyReport): void {
  if (report.verified) {
    const seal = report.seal;
    const kind = seal?.filtered ? " (a filtered export: each entry against its own hash, not a contiguous chain)" : "";
    console.log(
      `verified${kind}: ${report.entriesVerified} entries, ${report.checkpointsVerified} signed checkpoints; last entry ${report.lastEntryId || "(none)"} hash ${report.lastHash}`,
    );
    if (seal) console.log(`sealed by audit key ${seal.keyId} at ${seal.time}: the file is exactly what the server exported`);
    return;
  }
  const b = report.brokenLink!;
  console.log(`BROKEN at entry ${b.entryId || "(none)"}: ${b.problem}: ${b.detail}`);
  console.log(`(${report.entriesVerified} entries verified before it)`);
  process.exitCode = 1;
}

async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

/** `hearth audit verify` and `hearth audit rotate-key` (docs/audit-log.md). */
export function auditCommands(program: Command, loadConfig: () => Config): void {
  const audit = program.command("audit").description("operator commands for the audit log's tamper evidence");
  audit
    .command("verify")
    .description("recompute an account's audit hash chain and checkpoint signatures (or an export's, offline); exit 1 at a broken link")
    .option("--account <accountId>", "the account whose chain to verify in the store (default: HEARTH_ACCOUNT_ID)")
    .option("--from <time>", "first entry time (RFC 3339)")
    .option("--to <time>", "end time, exclusive (RFC 3339)")
    .option("--file <path>", "verify an export (JSON Lines) offline instead of the store")
    .option("--public-key <file>", "with --file: trust these keys (the JSON of /.well-known/hearth-audit-keys) rather than the export's own")
    .addHelpText(
      "after",
      "\nExamples:\n  hearth audit verify --account acme --from 2026-01-01T00:00:00Z\n  hearth audit verify --file audit.jsonl --public-key hearth-audit-keys.json",
    )
    .action(async (opts: { account?: string; from?: string; to?: string; file?: string; publicKey?: string }) => {
      if (opts.file !== undefined) {
        const file = readableFile("--file", opts.file);
        print(await verifyExport(linesOf(file), () => linesOf(file), opts.publicKey !== undefined ? keysFromFile(opts.publicKey) : undefined));
        return;
      }
      const config = loadConfig();
      const range = {
        startTime: opts.from !== undefined ? parseTimestamp(opts.from, "--from") : undefined,
        endTime: opts.to !== undefined ? parseTimestamp(opts.to, "--to") : undefined,
      };
      const accountId = opts.account ?? config.accountId;
      print(
        await withStore(config, async (store) => {
          // Else an account that does not exist (a misspelt id) "verifies": it has no entries to break.
          if (!(await getAccount(store.db, accountId))) throw notFound(`account "${accountId}" not found`);
          return verifyAccountChain(store, config, accountId, range);
        }),
      );
    });
  audit
    .command("rotate-key")
    .description("sign audit checkpoints with a new Ed25519 key from now on; the old public key stays published")
    .addHelpText("after", "\nExample:\n  hearth audit rotate-key")
    .action(async () => {
      const config = loadConfig();
      const keyId = await withStore(config, (store) => rotateAuditSigningKey(store, config));
      console.log(`audit signing key rotated: new key id ${keyId} (old keys stay at /.well-known/hearth-audit-keys)`);
    });
}
