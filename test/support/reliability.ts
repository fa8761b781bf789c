import { appendFileSync, mkdirSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";

/**
 * Shared pieces of the reliability suite (test/reliability): the report every file adds its
 * counts to, a guard that keeps fuzzed input from reaching the network, and whole-store dumps.
 */
export const REPORT_DIR = process.env.HEARTH_RELIABILITY_REPORT_DIR ?? join(process.cwd(), "test-output", "reliability");

/** Adds counts to the summary printed at the end of `npm run test:reliability` (numbers add up per key). */
export function report(section: string, metrics: Record<string, number | string>): void {
  mkdirSync(REPORT_DIR, { recursive: true });
  appendFileSync(join(REPORT_DIR, "report.jsonl"), `${JSON.stringify({ section, metrics })}\n`);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Refuses, in this test process, any TCP connection to a host that is not loopback: fuzzed
 * identity-provider URLs or bearer tokens must never make the server under test reach outside.
 * Returns the refused destinations so a test can assert there were none it did not expect.
 */
export function guardNetwork(): string[] {
  const refused: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0] as { host?: string; path?: string } | unknown[] | number | string;
    const options = Array.isArray(first) ? (first[0] as { host?: string; path?: string }) : first;
    const host =
      typeof options === "object" && options
        ? options.path
          ? "localhost"
          : (options.host ?? "localhost")
        : typeof args[1] === "string"
          ? args[1]
          : "localhost";
    if (!LOOPBACK.test(host)) {
      refused.push(host);
      throw new Error(`reliability suite: refused a connection to ${host} (only loopback is allowed)`);
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return refused;
}

export type TableDump = Record<string, Array<Record<string, unknown>>>;

/** Every row of every table of a SQLite file, in a total order. */
export function dumpSqlite(path: string): TableDump {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").all() as Array<{
      name: string;
    }>;
    const dump: TableDump = {};
    for (const { name } of tables) {
      const columns = (db.prepare(`pragma table_info("${name}")`).all() as Array<{ name: string }>).map((c) => `"${c.name}"`);
      dump[name] = db
        .prepare(`select * from "${name}" order by ${columns.join(", ")}`)
        .all()
        .map((r) => ({ ...(r as object) }));
    }
    return dump;
  } finally {
    db.close();
  }
}

/** Every row of every table of a PostgreSQL database, in a total order. */
export async function dumpPostgres(url: string): Promise<TableDump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name",
    );
    const dump: TableDump = {};
    for (const { table_name: name } of tables.rows) {
      const columns = await client.query<{ column_name: string }>(
        "select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position",
        [name],
      );
      const order = columns.rows.map((c) => `"${c.column_name}"`).join(", ");
      dump[name] = (await client.query(`select * from "${name}" order by ${order}`)).rows;
    }
    return dump;
  } finally {
    await client.end();
  }
}

export const rowCount = (dump: TableDump): number => Object.values(dump).reduce((n, rows) => n + rows.length, 0);

/** A JSON request over real HTTP; a refused connection or a reset is thrown, as it would be to any client. */
export async function request(
  baseUrl: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/**
 * Memory of a child started with `--inspect=127.0.0.1:0`, measured after a full garbage collection
 * forced through its inspector: what it really holds, free of the collector's timing.
 */
export async function memoryAfterGc(childOutput: string): Promise<{ heapUsed: number; rss: number }> {
  const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(childOutput)?.[1];
  if (!url) throw new Error("the child was not started with --inspect=127.0.0.1:0");
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const calls = new Map<number, (result: any) => void>();
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) calls.get(message.id)?.(message.result);
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const id = ++next;
      calls.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("HeapProfiler.collectGarbage");
    await send("HeapProfiler.collectGarbage");
    const result = await send("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
    const usage = JSON.parse(result.result.value) as { heapUsed: number; rss: number };
    return { heapUsed: usage.heapUsed, rss: usage.rss };
  } finally {
    ws.close();
  }
}
