import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { loadConfig } from "../../src/config.ts";
import { bootstrap, createHearth, type Hearth } from "../../src/server.ts";
import type { NetworkOptions } from "../../src/service/outbound-fetch.ts";
import type { Clock } from "../../src/domain/clock.ts";
import { openStore, type Dialect } from "../../src/store/store.ts";

/**
 * Test harness: a real Hearth over a real database. SQLite always; PostgreSQL when it answers at
 * HEARTH_TEST_PG_URL (default the local server). Under CI=true a missing PostgreSQL fails the run.
 */
const PG_ADMIN_URL = process.env.HEARTH_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Whether PostgreSQL answers. Under CI=true it must: a server slow to accept a connection (a busy
 * machine, several suites starting at once) is asked again for up to 30 seconds before the run fails.
 */
async function postgresAvailable(): Promise<boolean> {
  const required = process.env.CI === "true";
  const deadline = Date.now() + (required ? 30_000 : 0);
  for (;;) {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: required ? 5000 : 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (required) throw new Error(`PostgreSQL is required under CI=true but did not answer at ${PG_ADMIN_URL} within 30 s: ${(error as Error).message}`);
      return false;
    }
  }
}

/** The dialects every store-backed suite runs against. */
export const DIALECTS: Dialect[] = (await postgresAvailable()) ? ["sqlite", "postgres"] : ["sqlite"];

export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the dialect; `drop` removes it. */
export async function freshDatabase(dialect: Dialect): Promise<{ env: Record<string, string>; dataDir: string; drop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-test-"));
  if (dialect === "sqlite") {
    return { env: { HEARTH_DATA_DIR: dataDir }, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `hearth_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    env: { HEARTH_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    dataDir,
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

export interface TestHearth extends Hearth {
  dialect: Dialect;
  /** The first admin's API key, as printed at first start. */
  adminKey: string;
  accountId: string;
  dataDir: string;
  env: Record<string, string>;
  /** Every log line the server wrote. */
  logs: string[];
  /** Base URL once `listen()` was called. */
  baseUrl: string;
  listen(): Promise<string>;
  /** In-process request with a bearer key; returns status, headers and parsed JSON. */
  call(
    method: string,
    url: string,
    options?: { key?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** `options.network` replaces address classification, DNS and trusted CAs for tenant-configured URLs. */
export async function startHearth(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: { network?: NetworkOptions; clock?: Clock } = {},
): Promise<TestHearth> {
  const db = await freshDatabase(dialect);
  // Suites send many bad credentials from one address on purpose: throttling is tested on its own.
  const fullEnv = {
    HEARTH_LOG_LEVEL: "info",
    HEARTH_LAST_USED_FLUSH_MS: "50",
    HEARTH_AUTH_FAILURES_SLOW: "1000000",
    HEARTH_AUTH_FAILURES_BLOCK: "1000000",
    ...db.env,
    ...env,
  };
  const config = loadConfig(fullEnv);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const hearth = await createHearth(config, {
    logStream,
    ...(options.network ? { network: options.network } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const printed: string[] = [];
  await bootstrap(hearth.deps, (line) => printed.push(line));
  const adminKey = printed.map((l) => l.trim()).find((l) => l.startsWith(config.keyPrefix)) ?? "";
  const t: TestHearth = {
    ...hearth,
    dialect,
    adminKey,
    accountId: config.accountId,
    dataDir: db.dataDir,
    env: fullEnv,
    logs,
    baseUrl: "",
    async listen() {
      await hearth.app.listen({ host: "127.0.0.1", port: 0 });
      const address = hearth.app.server.address();
      t.baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      return t.baseUrl;
    },
    async call(method, url, options = {}) {
      const key = options.key === undefined ? adminKey : options.key;
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const res = await hearth.app.inject({
        method: method as "GET",
        url,
        headers,
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // not JSON
      }
      return { status: res.statusCode, body, headers: res.headers };
    },
    async stop() {
      await hearth.close();
      await db.drop();
    },
  };
  return t;
}

/** Opens the store of a stopped or running test server directly (for at-rest checks). */
export function openTestStore(env: Record<string, string>) {
  return openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HEARTH_DATA_DIR, migrate: false });
}
