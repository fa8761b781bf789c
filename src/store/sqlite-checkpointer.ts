import { Worker } from "node:worker_threads";
import type { NodeSqliteDatabase } from "./sqlite-database.ts";

/** How often the worker copies the write-ahead log into the database, milliseconds. */
const CHECKPOINT_INTERVAL_MS = 200;

/** SQLite's own default: a checkpoint by the committing connection once the log holds this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * The worker thread's program: its own connection to the store's file, a PASSIVE checkpoint every
 * `intervalMs` (it never waits for, nor holds up, the serving connection's writes), a failure
 * reported as `{ failed }`; on "stop" one more checkpoint, then it closes its connection and ends.
 * Data: `{ path: string; intervalMs: number }`. Plain JavaScript run with `eval`, so the thread
 * loads no TypeScript loader: about 18 MB of memory rather than 28 MB.
 */
const WORKER_SOURCE = `
const { DatabaseSync } = require("node:sqlite");
const { parentPort, workerData } = require("node:worker_threads");
const db = new DatabaseSync(workerData.path);
db.exec("PRAGMA busy_timeout = 5000");
function checkpoint() {
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    return true;
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message) });
    return false;
  }
}
const timer = setInterval(() => {
  if (!checkpoint()) clearInterval(timer);
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Takes a serving store's WAL checkpoints off its event loop. By default SQLite checkpoints inside
 * the COMMIT that takes the log past 1,000 pages, and that COMMIT then copies the pages and waits
 * for two fsyncs while every request waits with it. Here the serving connection never checkpoints
 * (`wal_autocheckpoint = 0`); a worker thread with its own connection runs a PASSIVE checkpoint
 * every `intervalMs` (`WORKER_SOURCE`). Durability is unchanged: a commit is
 * in the log either way (https://www.sqlite.org/wal.html#ckpt). Should the worker fail or end, the
 * serving connection checkpoints again as before.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly ended: Promise<unknown>;
  private stopped = false;

  constructor(database: NodeSqliteDatabase, path: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    database.raw.exec("PRAGMA wal_autocheckpoint = 0");
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
    const takeBack = () => {
      if (database.raw.isOpen) database.raw.exec(`PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    };
    this.worker.on("message", (message: { failed?: string }) => {
      if (message.failed !== undefined) takeBack();
    });
    this.worker.on("error", takeBack);
    // "exit" comes after an "error" too (`events.once` would reject then).
    this.ended = new Promise<void>((resolve) =>
      this.worker.once("exit", () => {
        if (!this.stopped) takeBack();
        resolve();
      }),
    );
    // An open store alone does not keep a process running.
    this.worker.unref();
  }

  /** Checkpoints once more and ends the worker; resolves once it has closed its connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Waited for: the worker's exit must keep the process running until it comes.
    this.worker.ref();
    this.worker.postMessage("stop");
    await this.ended;
  }
}
