import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { SqliteDialect } from "kysely";
import { authenticateApiKey } from "../src/service/authenticate.ts";
import { NodeSqliteDatabase } from "../src/store/sqlite-database.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { scratch, type Scratch } from "./databases.ts";
import { hearthInProcess } from "./hearth-in-process.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { count, log, perCpuSecond, rateOver, ratio, type Rate } from "./stats.ts";
import { met, notRun, type Row } from "./table.ts";

/**
 * Item 5: the same key verification done by better-auth's API-key plugin, installed for the
 * benchmark only into bench/.deps (gitignored), on the same kind of SQLite file (node:sqlite
 * through the same Kysely dialect adapter, WAL). Versions are pinned together: the plugin
 * (`@better-auth/api-key` 1.7.5) pins its peers exactly, and newer better-auth 1.7.x releases
 * bring a core those pins refuse, so npm would not install the newest of each.
 */
const DEPS_DIR = fileURLToPath(new URL("./.deps/", import.meta.url));
const PACKAGES = ["better-auth@1.7.5", "@better-auth/api-key@1.7.5", "@better-auth/core@1.7.5", "@better-auth/utils@0.4.2", "better-call@1.4.0"];
const KEYS = 1_000;
const TARGET = 100;

const what = "API key verification in-process, SQLite file, per CPU-second: Hearth (warm cache) vs better-auth 1.7 apiKey plugin";
const target = `Hearth ≥ ${TARGET}× better-auth`;

export async function betterAuthComparison(_options: BenchOptions, size: Sizes): Promise<Row[]> {
  const installed = await ensureInstalled();
  if (installed !== true) return [notRun(5, what, target, installed)];
  let betterAuth: Rate;
  const baScratch = await scratch("better-auth");
  try {
    betterAuth = await measureBetterAuth(baScratch, size.betterAuthSeconds);
  } catch (error) {
    process.stderr.write(`  better-auth failed: ${(error as Error).stack ?? error}\n`);
    return [notRun(5, what, target, `better-auth did not run: ${(error as Error).message.split("\n")[0]}`)];
  } finally {
    await baScratch.drop();
  }
  const hearth = await measureHearth(size.betterAuthSeconds);
  log(
    `better-auth ${perCpuSecond(betterAuth)} (${count(betterAuth.calls)} calls); Hearth warm ${perCpuSecond(hearth.warm)}, cache off ${perCpuSecond(hearth.cold)}`,
  );
  return [
    {
      item: 5,
      what,
      hearth: perCpuSecond(hearth.warm),
      baseline: perCpuSecond(betterAuth),
      ratio: ratio(hearth.warm.perCpuSecond / betterAuth.perCpuSecond),
      target,
      met: met(hearth.warm.perCpuSecond >= TARGET * betterAuth.perCpuSecond),
    },
    {
      item: 5,
      what: "  same, Hearth with its key cache off (every verification an indexed query)",
      hearth: perCpuSecond(hearth.cold),
      baseline: perCpuSecond(betterAuth),
      ratio: ratio(hearth.cold.perCpuSecond / betterAuth.perCpuSecond),
      target: "—",
      met: "—",
    },
  ];
}

/** True when the pinned packages are there (installing them if needed); otherwise why not. */
async function ensureInstalled(): Promise<true | string> {
  const have = (name: string, version: string) => {
    const file = join(DEPS_DIR, "node_modules", name, "package.json");
    return existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version === version;
  };
  const missing = PACKAGES.filter((spec) => {
    const at = spec.lastIndexOf("@");
    return !have(spec.slice(0, at), spec.slice(at + 1));
  });
  if (missing.length === 0) return true;
  log(`installing ${PACKAGES.join(" ")} into bench/.deps (once)`);
  mkdirSync(DEPS_DIR, { recursive: true });
  // Its own package.json, so npm installs here and never touches the repository's.
  const manifest = join(DEPS_DIR, "package.json");
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ private: true, name: "hearth-bench-deps" }));
  try {
    await promisify(execFile)("npm", ["install", "--prefix", DEPS_DIR, "--no-audit", "--no-fund", ...PACKAGES], { timeout: 240_000 });
    return true;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const reason = (e.stderr ?? "").split("\n").find((l) => l.includes("npm error")) ?? e.message.split("\n")[0]!;
    return `could not install better-auth (${reason.trim()})`;
  }
}

/** Imports a package (or one of its exported subpaths) from bench/.deps by its exports map. */
async function importDep(name: string, subpath = "."): Promise<Record<string, unknown>> {
  const dir = join(DEPS_DIR, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, { default?: string; import?: string }> };
  const entry = pkg.exports[subpath];
  const file = entry?.import ?? entry?.default;
  if (!file) throw new Error(`${name} exports no ${subpath}`);
  return (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- better-auth is loaded at run time, untyped here */
async function measureBetterAuth(s: Scratch, seconds: number): Promise<Rate> {
  const { betterAuth } = (await importDep("better-auth")) as { betterAuth: (options: unknown) => any };
  // 1.7 exports getMigrations from better-auth/db/migration (earlier releases: better-auth/db).
  const migration = await importDep("better-auth", "./db/migration").catch(() => importDep("better-auth", "./db"));
  const getMigrations = migration.getMigrations as (options: unknown) => Promise<any>;
  const { apiKey } = (await importDep("@better-auth/api-key")) as { apiKey: (options?: unknown) => unknown };
  const dialect = new SqliteDialect({ database: new NodeSqliteDatabase(join(s.dataDir, "better-auth.db")) });
  const options = {
    database: { dialect, type: "sqlite" },
    secret: randomBytes(32).toString("hex"),
    baseURL: "http://127.0.0.1:3000",
    telemetry: { enabled: false },
    logger: { level: "error" },
    // Hearth has no per-key request limit on verification; the plugin's default (10 a day) would
    // refuse the benchmark's calls, so it is turned off rather than spread over more keys.
    plugins: [apiKey({ rateLimit: { enabled: false } })],
  };
  // Migrate first: the instance checks the schema when it starts.
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const ctx = await auth.$context;
  const user = await ctx.internalAdapter.createUser({ email: "bench@example.com", name: "bench", emailVerified: true });
  const keys: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const created = await auth.api.createApiKey({ body: { userId: user.id, name: `bench-${i}` } });
    keys.push(created.key as string);
  }
  const first = await auth.api.verifyApiKey({ body: { key: keys[0] } });
  if (first?.valid !== true) throw new Error(`verifyApiKey did not accept a fresh key: ${JSON.stringify(first?.error)}`);
  let invalid = 0;
  const verify = async (i: number) => {
    const r = await auth.api.verifyApiKey({ body: { key: keys[i % KEYS] } });
    if (r?.valid !== true) invalid++;
  };
  await rateOver(Math.min(1, seconds), verify); // warm-up
  const result = await rateOver(seconds, verify);
  if (invalid > 0) throw new Error(`${invalid} verifications were refused`);
  await dialect.createDriver().destroy?.();
  return result;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Hearth over the same number of keys on a SQLite file: warm cache, and with the cache off. */
async function measureHearth(seconds: number): Promise<{ warm: Rate; cold: Rate }> {
  const s = await scratch("better-auth-hearth");
  try {
    const seeded = await openSeededStore(s);
    const keys = await seedUsers(seeded.store, { users: KEYS, serviceAccountEvery: 2, keysPerUser: 1, keep: KEYS });
    await seeded.store.close();
    const rate = async (env: Record<string, string>) => {
      const hearth = await hearthInProcess(s, env);
      try {
        const verify = (i: number) => authenticateApiKey(hearth.deps, keys[i % KEYS]!);
        await rateOver(Math.min(1, seconds), verify);
        return await rateOver(seconds, verify);
      } finally {
        await hearth.close();
      }
    };
    const warm = await rate({});
    const cold = await rate({ HEARTH_KEY_CACHE_SIZE: "0", HEARTH_NEGATIVE_CACHE_SIZE: "0" });
    return { warm, cold };
  } finally {
    await s.drop();
  }
}
