import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SqliteDialect } from "kysely";
import { authenticateApiKey } from "../src/service/authenticate.ts";
import { NodeSqliteDatabase } from "../src/store/sqlite-database.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { scratch, type Scratch } from "./databases.ts";
import { ensureDeps, importDep } from "./deps.ts";
import { hearthInProcess } from "./hearth-in-process.ts";
import { load, rotatingBearer, rotatingHeader, type LoadResult } from "./load.ts";
import { serveHearth, serveScript, type Child } from "./processes.ts";
import { openSeededStore, seedUsers } from "./seed.ts";
import { count, log, median, micros, ms, perCpuSecond, perSecond, rateOver, ratio, type Rate } from "./stats.ts";
import { met, notRun, type Row } from "./table.ts";

/**
 * Item 5: the same key verification done by better-auth's API-key plugin, installed for the
 * benchmark only into bench/.deps (gitignored), on the same kind of SQLite file (node:sqlite
 * through the same Kysely dialect adapter, WAL). Versions are pinned together: the plugin
 * (`@better-auth/api-key` 1.7.5) pins its peers exactly, and newer better-auth 1.7.x releases
 * bring a core those pins refuse, so npm would not install the newest of each.
 */
const BETTER_AUTH_PACKAGES = ["better-auth@1.7.5", "@better-auth/api-key@1.7.5", "@better-auth/core@1.7.5", "@better-auth/utils@0.4.2", "better-call@1.4.0"];
const KEYS = 1_000;
const TARGET = 100;
const BETTER_AUTH_SERVER = fileURLToPath(new URL("./better-auth-server.ts", import.meta.url));

const what = "API key verification in-process, SQLite file, per CPU-second: Hearth (warm cache) vs better-auth 1.7 apiKey plugin";
const target = `Hearth ≥ ${TARGET}× better-auth`;

export async function betterAuthComparison(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const installed = await ensureDeps(BETTER_AUTH_PACKAGES, "better-auth");
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
  let http: Row[];
  try {
    http = await overHttp(options, size);
  } catch (error) {
    process.stderr.write(`  over HTTP failed: ${(error as Error).stack ?? error}\n`);
    http = [notRun(5, HTTP_WHAT, HTTP_TARGET, `failed: ${(error as Error).message.split("\n")[0]}`)];
  }
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
    ...http,
  ];
}

const HTTP_CONNECTIONS = 32;
const HTTP_TARGET_RATIO = 50;
const HTTP_WHAT = `GET /verifyApiKey over HTTP req/s, hearth serve vs better-auth's plugin over HTTP (${HTTP_CONNECTIONS} connections)`;
const HTTP_TARGET = `Hearth ≥ ${HTTP_TARGET_RATIO}× better-auth`;

/**
 * The same comparison over HTTP: `hearth serve` answering `GET /verifyApiKey` against a bare
 * `node:http` child calling better-auth's `verifyApiKey` (bench/better-auth-server.ts), each with
 * 1,000 keys on a SQLite file, loaded in alternating rounds from this process.
 */
async function overHttp(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("better-auth-http");
  let hearth: Child | undefined;
  let betterAuth: Child | undefined;
  try {
    const seeded = await openSeededStore(s);
    const hearthKeys = await seedUsers(seeded.store, { users: KEYS, serviceAccountEvery: 2, keysPerUser: 1, keep: KEYS });
    await seeded.store.close();
    hearth = await serveHearth(s.env, { profile: options.profile });
    betterAuth = await serveScript(
      "better-auth-server",
      (port) => [BETTER_AUTH_SERVER, s.dataDir, String(KEYS), String(port)],
      s.dataDir,
      "better-auth listening",
    );
    const baKeys = JSON.parse(readFileSync(join(s.dataDir, "better-auth-keys.json"), "utf8")) as string[];
    const requests = {
      hearth: rotatingBearer("/verifyApiKey", hearthKeys),
      betterAuth: rotatingBearer("/verifyApiKey", baKeys),
      betterAuthHandler: rotatingHeader("/api/auth/get-session", "x-api-key", baKeys),
    };
    type Which = keyof typeof requests;
    const run = (which: Which, seconds: number) => {
      const child = which === "hearth" ? hearth! : betterAuth!;
      return load({ url: child.baseUrl, connections: HTTP_CONNECTIONS, seconds, requests: requests[which], server: child });
    };
    const all: Which[] = ["hearth", "betterAuth", "betterAuthHandler"];
    for (const which of all) await run(which, 1);
    const seconds = Math.max(2, size.httpSeconds / 2);
    const results: Record<Which, LoadResult[]> = { hearth: [], betterAuth: [], betterAuthHandler: [] };
    for (let round = 0; round < size.httpRounds; round++) {
      for (const which of all.map((_, i) => all[(i + round) % all.length]!)) {
        const r = await run(which, seconds);
        if (r.failed > 0) throw new Error(`${which}: ${r.failed} requests failed or were not 2xx`);
        results[which].push(r);
        log(`over HTTP, round ${round + 1} ${which}: ${perSecond(r.perSecond)}, p99 ${ms(r.p99)}, server CPU ${micros(r.cpuMicros)} per request`);
      }
    }
    const rps = (w: Which) => median(results[w].map((r) => r.perSecond));
    const cpuOf = (w: Which) => median(results[w].map((r) => r.cpuMicros));
    const cpu = { hearth: cpuOf("hearth"), betterAuth: cpuOf("betterAuth") };
    return [
      {
        item: 5,
        what: `GET /verifyApiKey over HTTP req/s vs better-auth's own HTTP handler (GET /api/auth/get-session with x-api-key; median of ${size.httpRounds} × ${seconds} s)`,
        hearth: perSecond(rps("hearth")),
        baseline: perSecond(rps("betterAuthHandler")),
        ratio: ratio(rps("hearth") / rps("betterAuthHandler")),
        target: HTTP_TARGET,
        met: met(rps("hearth") >= HTTP_TARGET_RATIO * rps("betterAuthHandler")),
      },
      {
        item: 5,
        what: "  server CPU time per request (ratio: requests per CPU-second, Hearth ÷ better-auth's handler)",
        hearth: micros(cpuOf("hearth")),
        baseline: micros(cpuOf("betterAuthHandler")),
        ratio: ratio(cpuOf("betterAuthHandler") / cpuOf("hearth")),
        target: "—",
        met: "—",
      },
      {
        item: 5,
        what: `  same vs better-auth's verifyApiKey called directly by a bare node:http server (median of ${size.httpRounds} × ${seconds} s)`,
        hearth: perSecond(rps("hearth")),
        baseline: perSecond(rps("betterAuth")),
        ratio: ratio(rps("hearth") / rps("betterAuth")),
        target: HTTP_TARGET,
        met: met(rps("hearth") >= HTTP_TARGET_RATIO * rps("betterAuth")),
      },
      {
        item: 5,
        what: "  server CPU time per request (ratio: requests per CPU-second, Hearth ÷ better-auth)",
        hearth: micros(cpu.hearth),
        baseline: micros(cpu.betterAuth),
        ratio: ratio(cpu.betterAuth / cpu.hearth),
        target: "—",
        met: "—",
      },
    ];
  } finally {
    await hearth?.stop();
    await betterAuth?.stop();
    await s.drop();
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- better-auth is loaded at run time, untyped here */
/**
 * A better-auth instance with its API-key plugin over a SQLite file in `dataDir`, migrated, with
 * one user holding `keys` fresh keys (returned in plaintext); the caller closes it with `close()`.
 */
export async function setUpBetterAuth(dataDir: string, keys: number): Promise<{ auth: any; keys: string[]; close(): Promise<void> }> {
  const { betterAuth } = (await importDep("better-auth")) as { betterAuth: (options: unknown) => any };
  // 1.7 exports getMigrations from better-auth/db/migration (earlier releases: better-auth/db).
  const migration = await importDep("better-auth", "./db/migration").catch(() => importDep("better-auth", "./db"));
  const getMigrations = migration.getMigrations as (options: unknown) => Promise<any>;
  const { apiKey } = (await importDep("@better-auth/api-key")) as { apiKey: (options?: unknown) => unknown };
  const dialect = new SqliteDialect({ database: new NodeSqliteDatabase(join(dataDir, "better-auth.db")) });
  const options = {
    database: { dialect, type: "sqlite" },
    secret: randomBytes(32).toString("hex"),
    baseURL: "http://127.0.0.1:3000",
    telemetry: { enabled: false },
    logger: { level: "error" },
    // Hearth has no per-key request limit on verification; the plugin's default (10 a day) would
    // refuse the benchmark's calls, so it is turned off rather than spread over more keys.
    // Sessions for API keys: a request carrying `x-api-key` is authenticated by its key on better-auth's own HTTP routes.
    plugins: [apiKey({ rateLimit: { enabled: false }, enableSessionForAPIKeys: true })],
  };
  // Migrate first: the instance checks the schema when it starts.
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const ctx = await auth.$context;
  const user = await ctx.internalAdapter.createUser({ email: "bench@example.com", name: "bench", emailVerified: true });
  const made: string[] = [];
  for (let i = 0; i < keys; i++) {
    const created = await auth.api.createApiKey({ body: { userId: user.id, name: `bench-${i}` } });
    made.push(created.key as string);
  }
  const first = await auth.api.verifyApiKey({ body: { key: made[0] } });
  if (first?.valid !== true) throw new Error(`verifyApiKey did not accept a fresh key: ${JSON.stringify(first?.error)}`);
  return { auth, keys: made, close: async () => void (await dialect.createDriver().destroy?.()) };
}

async function measureBetterAuth(s: Scratch, seconds: number): Promise<Rate> {
  const { auth, keys, close } = await setUpBetterAuth(s.dataDir, KEYS);
  let invalid = 0;
  const verify = async (i: number) => {
    const r = await auth.api.verifyApiKey({ body: { key: keys[i % KEYS] } });
    if (r?.valid !== true) invalid++;
  };
  await rateOver(Math.min(1, seconds), verify); // warm-up
  const result = await rateOver(seconds, verify);
  if (invalid > 0) throw new Error(`${invalid} verifications were refused`);
  await close();
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
