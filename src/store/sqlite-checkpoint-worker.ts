/**
 * @module The worker thread of `SqliteCheckpointer`: its own connection to the store's file, which
 * copies the write-ahead log into the database every `intervalMs` (a PASSIVE checkpoint: it never
 * waits for, nor holds up, the serving connection's writes). On "stop" it checkpoints once more,
 * closes its connection and ends. Data: `{ path: string; intervalMs: number }`.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 5000");

/** One checkpoint; a failure is reported to the owner, which takes checkpoints back (see `SqliteCheckpointer`). */
function checkpoint(): boolean {
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    return true;
  } catch (error) {
    parentPort!.postMessage({ failed: (error as Error).message });
    return false;
  }
}

const timer = setInterval(() => {
  if (!checkpoint()) clearInterval(timer);
}, intervalMs);

parentPort!.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort!.close();
});
